using System.Reflection;
using Spectre.Console;

namespace RaftCache.Cli.Tests;

/// <summary><c>recover</c>'s arguments, exit codes and report; the command against a cluster runs in RaftCache.Deployment.Tests.</summary>
public sealed class RecoverCommandTests
{
    [Theory]
    [InlineData(new[] { "recover" }, null, false)]
    [InlineData(new[] { "recover", "--confirm" }, null, true)]
    [InlineData(new[] { "recover", "--group", "0" }, 0, false)]
    [InlineData(new[] { "recover", "--group", "7", "--confirm" }, 7, true)]
    [InlineData(new[] { "recover", "--confirm", "--group", "12" }, 12, true)]
    public void Valid_arguments_parse_to_the_group_and_the_confirmation(string[] args, int? group, bool confirm)
    {
        var parse = Commands.Build().Parse(args);
        Assert.Empty(parse.Errors);
        Assert.Equal("recover", parse.CommandResult.Command.Name);
        Assert.Equal(group, parse.GetValue<int?>("--group"));
        Assert.Equal(confirm, parse.GetValue<bool>("--confirm"));
    }

    [Theory]
    [InlineData("-1", "'-1' is not a group number: groups are numbered from 0.")]
    [InlineData("-12", "'-12' is not a group number: groups are numbered from 0.")]
    [InlineData("x", "'x' is not a group number (a whole number from 0, for example --group 0).")]
    [InlineData("1.5", "'1.5' is not a group number")]
    [InlineData("+3", "'+3' is not a group number")]
    [InlineData("99999999999", "'99999999999' is not a group number")]
    [InlineData("", "'' is not a group number")]
    public void A_group_that_is_not_a_whole_number_from_0_is_a_usage_error(string group, string message)
    {
        var parse = Commands.Build().Parse(["recover", "--group", group]);
        Assert.Contains(parse.Errors, e => e.Message.Contains("--group: " + message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("recover", "--group")]
    [InlineData("recover", "--group", "1", "--group", "2")]
    [InlineData("recover", "--group", "-1", "--confirm")]
    [InlineData("recover", "--confirm", "yes-please")]
    [InlineData("recover", "--force")]
    public async Task Invalid_arguments_exit_with_the_usage_code_without_connecting(params string[] args)
    {
        // Main parses first and returns on errors: no cluster is needed (and none would answer at the default gateways).
        var parse = Commands.Build().Parse(args);
        Assert.NotEmpty(parse.Errors);
        Assert.Equal(ExitCodes.Usage, await Program.Main(args));
    }

    [Fact]
    public void Without_timeout_recover_waits_longer_than_one_operation_and_an_explicit_timeout_wins()
    {
        var recover = Commands.Build().Parse(["recover"]);
        Assert.Equal(RecoverCommand.DefaultTimeout, GlobalOptions.Settings(recover, RecoverCommand.DefaultTimeout).RequestTimeout);
        Assert.True(RecoverCommand.DefaultTimeout > GlobalOptions.Settings(Commands.Build().Parse(["status"])).RequestTimeout);
        var given = Commands.Build().Parse(["recover", "--timeout", "5s"]);
        Assert.Equal(TimeSpan.FromSeconds(5), GlobalOptions.Settings(given, RecoverCommand.DefaultTimeout).RequestTimeout);
    }

    [Theory]
    [InlineData(ExitCodes.Ok, RecoveryOutcome.NotNeeded)]
    [InlineData(ExitCodes.Ok, RecoveryOutcome.NotNeeded, RecoveryOutcome.NotNeeded)]
    [InlineData(ExitCodes.Ok, RecoveryOutcome.Recovered)]
    [InlineData(ExitCodes.Ok, RecoveryOutcome.NotNeeded, RecoveryOutcome.Recovered)]
    [InlineData(ExitCodes.RecoveryNeeded, RecoveryOutcome.Planned)]
    [InlineData(ExitCodes.RecoveryNeeded, RecoveryOutcome.NotNeeded, RecoveryOutcome.Planned)]
    [InlineData(ExitCodes.RecoveryRefused, RecoveryOutcome.Refused)]
    [InlineData(ExitCodes.RecoveryRefused, RecoveryOutcome.Failed)]
    [InlineData(ExitCodes.RecoveryRefused, RecoveryOutcome.Recovered, RecoveryOutcome.Failed)]
    [InlineData(ExitCodes.RecoveryRefused, RecoveryOutcome.Planned, RecoveryOutcome.Refused)]
    [InlineData(ExitCodes.Failure)]
    [InlineData(ExitCodes.Failure, (RecoveryOutcome)99)]
    public void The_exit_code_says_whether_every_group_is_fine_needs_recovery_or_was_refused(int expected, params RecoveryOutcome[] outcomes)
    {
        var reports = outcomes.Select((o, i) => new GroupRecovery { Group = i, Outcome = o }).ToList();
        Assert.Equal(expected, RecoverCommand.ExitCode(reports));
    }

    [Fact]
    public void The_recovery_exit_codes_are_distinct_from_every_other_and_described()
    {
        var codes = typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int)).ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!);
        Assert.Equal(codes.Count, codes.Values.Distinct().Count());
        var description = ExitCodes.Description.ReplaceLineEndings(" ");
        Assert.Contains($"{ExitCodes.RecoveryNeeded} recover (dry run): some group lost its quorum and needs recovery", description, StringComparison.Ordinal);
        Assert.Contains($"{ExitCodes.RecoveryRefused} recover: refused or failed for some group", description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dry_run_prints_the_plan_and_says_to_confirm()
    {
        var output = Render(dryRun: true, new GroupRecovery
        {
            Group = 0, Outcome = RecoveryOutcome.Planned, Message = "Group 0 lost its quorum. Confirm to recover.",
            ChosenSilo = "S127.0.0.1:11111:1", ChosenMemberId = 42, KeptIndex = 57, KeptTerm = 3, LastKnownCommit = 55,
            EntriesBehindKnownCommit = 0, EntriesCommittedByRecovery = 2, Survivors = ["S127.0.0.1:11111:1"],
            DeadVoters = ["S127.0.0.1:11112:1", "S127.0.0.1:11113:1"],
        });
        Assert.Contains("Group 0: Planned (lost its quorum; nothing changed)", output, StringComparison.Ordinal);
        Assert.Matches(@"chosen survivor\s+S127\.0\.0\.1:11111:1 \(member 42\)", output);
        Assert.Matches(@"kept log\s+up to index 57, term 3", output);
        Assert.Matches(@"last known commit\s+55 ", output);
        Assert.Matches(@"behind known commit\s+0 \(the kept log reaches the known commit: no known loss\)", output);
        Assert.Matches(@"committed by recovery\s+2 entries past the known commit would take effect", output);
        Assert.Matches(@"survivors\s+S127\.0\.0\.1:11111:1", output);
        Assert.Matches(@"dead voters\s+S127\.0\.0\.1:11112:1, S127\.0\.0\.1:11113:1", output);
        Assert.DoesNotContain("new epoch", output, StringComparison.Ordinal);
        Assert.Matches(@"message\s+Group 0 lost its quorum\. Confirm to recover\.", output);
        Assert.Contains("Dry run: nothing was changed. Group 0 lost its quorum: to recover, run again with --confirm.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recovery_prints_the_loss_and_the_new_epoch()
    {
        var output = Render(dryRun: false,
            new GroupRecovery
            {
                Group = 1, Outcome = RecoveryOutcome.Recovered, Message = "Group 1 re-formed in epoch 9.", ChosenSilo = "S127.0.0.1:11111:1",
                ChosenMemberId = 42, KeptIndex = 50, KeptTerm = 3, LastKnownCommit = 55, EntriesBehindKnownCommit = 5,
                Survivors = ["S127.0.0.1:11111:1"], DeadVoters = ["S127.0.0.1:11112:1"], Epoch = 9,
            },
            new GroupRecovery { Group = 0, Outcome = RecoveryOutcome.NotNeeded, Message = "Orleans has declared no voter's silo dead: the group elects its own leader once a majority of its voters can reach one another." });
        Assert.True(output.IndexOf("Group 0: NotNeeded", StringComparison.Ordinal) < output.IndexOf("Group 1: Recovered", StringComparison.Ordinal), output);
        Assert.Matches(@"behind known commit\s+5 committed entries are not in the kept log: lost", output);
        Assert.Matches(@"committed by recovery\s+0", output);
        Assert.Matches(@"new epoch\s+9", output);
        Assert.Contains("Recovered group 1; replacement silos join as usual.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Dry run", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refusal_prints_the_reason_and_says_nothing_changed()
    {
        var output = Render(dryRun: true, new GroupRecovery
        {
            Group = 2, Outcome = RecoveryOutcome.Refused, Message = "Every surviving replica must take part [S1].",
        });
        Assert.Contains("Group 2: Refused", output, StringComparison.Ordinal);
        Assert.Matches(@"message\s+Every surviving replica must take part \[S1\]\.", output);
        Assert.DoesNotContain("chosen survivor", output, StringComparison.Ordinal);
        Assert.Contains("Recovery refused for group 2: nothing was changed there (see the message).", output, StringComparison.Ordinal);
    }

    private static string Render(bool dryRun, params GroupRecovery[] reports)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 240;
        RecoverCommand.Render(console, reports, dryRun);
        return writer.ToString();
    }
}
