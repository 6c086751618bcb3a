using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Spectre.Console;

namespace RaftCache.Cli;

/// <summary>
/// <c>recover</c>: re-forms groups that lost a majority of their voters from their surviving replicas
/// (<c>IRaftCacheClient.RecoverQuorumAsync</c>); a dry run unless <c>--confirm</c>.
/// </summary>
internal static class RecoverCommand
{
    /// <summary>
    /// How long the command waits for the cluster's answer unless <c>--timeout</c> is given: what the client library
    /// allows a recovery, more than one operation's 10 s.
    /// </summary>
    public static readonly TimeSpan DefaultTimeout = RaftCache.Client.RaftCacheClient.RecoveryTimeout;

    public static Command Build()
    {
        var group = new Option<int?>("--group")
        {
            Description = "Only this group (a number from 0); default: every group.",
            CustomParser = ParseGroup,
            HelpName = "N",
        };
        var confirm = new Option<bool>("--confirm")
        {
            Description = "Recover: re-form each group that lost its quorum from its survivors. Without it nothing changes; the report says what recovery would do.",
        };
        var command = new Command("recover",
            "Re-form groups that lost a majority of their voters (silos Orleans declared dead) from their surviving replicas, keeping the most " +
            "up-to-date survivor's log; writes only the dead voters held are lost, and the report says what is known of that loss. Without --confirm, " +
            $"a dry run. Waits up to {DefaultTimeout.TotalSeconds:0}s for the answer unless --timeout is given.")
        {
            group, confirm,
        };
        command.SetAction((parse, cancellation) => Commands.RunAsync(parse, async connection =>
        {
            var dryRun = !parse.GetValue(confirm);
            var reports = await connection.Cache.RecoverQuorumAsync(parse.GetValue(group), !dryRun, cancellation).ConfigureAwait(false);
            Render(AnsiConsole.Console, reports, dryRun);
            return ExitCode(reports);
        }, cancellation, DefaultTimeout));
        return command;
    }

    /// <summary>
    /// The exit code of a run: <see cref="ExitCodes.RecoveryRefused"/> if recovery was refused or failed for some group
    /// (in a dry run too, where it means recovery is not possible now); otherwise <see cref="ExitCodes.RecoveryNeeded"/>
    /// if some group lost its quorum and was not recovered (a dry run's plan); otherwise (every group NotNeeded or
    /// Recovered) <see cref="ExitCodes.Ok"/>. No report at all, or an outcome this client does not know, is a
    /// <see cref="ExitCodes.Failure"/>.
    /// </summary>
    public static int ExitCode(IReadOnlyList<GroupRecovery> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0) return ExitCodes.Failure;
        if (reports.Any(r => r.Outcome is RecoveryOutcome.Refused or RecoveryOutcome.Failed)) return ExitCodes.RecoveryRefused;
        if (reports.Any(r => r.Outcome == RecoveryOutcome.Planned)) return ExitCodes.RecoveryNeeded;
        return reports.All(r => r.Outcome is RecoveryOutcome.NotNeeded or RecoveryOutcome.Recovered) ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>A System.CommandLine parser for <c>--group</c>: a whole number from 0.</summary>
    public static int? ParseGroup(ArgumentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = string.Join(' ', result.Tokens.Select(t => t.Value));
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var group))
        {
            result.AddError(text.StartsWith('-') && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                ? $"--group: '{text}' is not a group number: groups are numbered from 0."
                : $"--group: '{text}' is not a group number (a whole number from 0, for example --group 0).");
            return null;
        }

        return group;
    }

    /// <summary>Prints each group's report to <paramref name="console"/>, then what the run means and what to do next.</summary>
    public static void Render(IAnsiConsole console, IReadOnlyList<GroupRecovery> reports, bool dryRun)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(reports);
        foreach (var report in reports.OrderBy(r => r.Group))
        {
            console.MarkupLine($"Group {report.Group}: {Outcome(report.Outcome)}");
            if (report.Outcome is RecoveryOutcome.Planned or RecoveryOutcome.Recovered or RecoveryOutcome.Failed && report.ChosenSilo is { } chosen)
            {
                Row(console, "chosen survivor", $"{chosen} (member {Num(report.ChosenMemberId)}): its log is kept");
                Row(console, "kept log", $"up to index {Num(report.KeptIndex)}, term {Num(report.KeptTerm)}");
                Row(console, "last known commit", $"{Num(report.LastKnownCommit)} (the highest commit index a survivor heard of)");
                Row(console, "behind known commit", report.EntriesBehindKnownCommit == 0
                    ? "0 (the kept log reaches the known commit: no known loss)"
                    : $"{Num(report.EntriesBehindKnownCommit)} committed entries are not in the kept log: lost");
                Row(console, "committed by recovery", report.EntriesCommittedByRecovery == 0
                    ? "0"
                    : $"{Num(report.EntriesCommittedByRecovery)} entries past the known commit {(dryRun ? "would take" : "take")} effect (their writers were not told they were applied)");
                Row(console, "survivors", List(report.Survivors));
            }

            if (report.DeadVoters.Length > 0) Row(console, "dead voters", List(report.DeadVoters));
            if (report.Outcome is RecoveryOutcome.Recovered or RecoveryOutcome.Failed) Row(console, "new epoch", Num(report.Epoch));
            else if (report.Epoch > 0) Row(console, "epoch", Num(report.Epoch) + " (the group was re-formed after an earlier quorum loss)");
            Row(console, "message", report.Message);
        }

        var planned = Groups(reports, RecoveryOutcome.Planned);
        var recovered = Groups(reports, RecoveryOutcome.Recovered);
        var refused = Groups(reports, RecoveryOutcome.Refused);
        var failed = Groups(reports, RecoveryOutcome.Failed);
        if (dryRun)
        {
            console.MarkupLine(planned.Length == 0
                ? "Dry run: nothing was changed."
                : $"Dry run: nothing was changed. {GroupWord(planned)} {string.Join(", ", planned)} lost {(planned.Length == 1 ? "its" : "their")} quorum: " +
                  "to recover, run again with --confirm.");
        }
        else if (recovered.Length > 0)
        {
            console.MarkupLine($"Recovered {GroupWord(recovered).ToLowerInvariant()} {string.Join(", ", recovered)}; replacement silos join as usual.");
        }

        if (refused.Length > 0) console.MarkupLine($"[red]Recovery refused[/] for {GroupWord(refused).ToLowerInvariant()} {string.Join(", ", refused)}: nothing was changed there (see the message).");
        if (failed.Length > 0) console.MarkupLine($"[red]Recovery failed[/] for {GroupWord(failed).ToLowerInvariant()} {string.Join(", ", failed)}: ask again (see the message).");
    }

    private static string Outcome(RecoveryOutcome outcome) => outcome switch
    {
        RecoveryOutcome.NotNeeded => "NotNeeded",
        RecoveryOutcome.Planned => "[yellow]Planned[/] (lost its quorum; nothing changed)",
        RecoveryOutcome.Recovered => "[green]Recovered[/]",
        RecoveryOutcome.Refused => "[red]Refused[/]",
        RecoveryOutcome.Failed => "[red]Failed[/]",
        _ => Markup.Escape(outcome.ToString()),
    };

    /// <summary>
    /// One line of a report, plain text (no markup): the label in a column of its own, then the value. Written past
    /// Spectre's rendering, which would break a long message at the profile's width (240 columns when redirected)
    /// without indenting the rest; a terminal wraps it instead, and a script sees one line per field.
    /// </summary>
    private static void Row(IAnsiConsole console, string label, string value) => console.Profile.Out.Writer.WriteLine($"  {label,-22} {value}");

    private static string List(string[] items) => items.Length == 0 ? "(none)" : string.Join(", ", items);

    private static int[] Groups(IReadOnlyList<GroupRecovery> reports, RecoveryOutcome outcome) =>
        [.. reports.Where(r => r.Outcome == outcome).Select(r => r.Group).Order()];

    private static string GroupWord(int[] groups) => groups.Length == 1 ? "Group" : "Groups";

    private static string Num(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
