namespace RaftCache.StateMachine.Tests;

public class ValidationTests
{
    private static readonly CacheStateMachineOptions Options = new() { MaxKeyBytes = 8, MaxValueBytes = 16, MaxTtl = TimeSpan.FromMinutes(1), MaxInFlightPerSession = 4 };

    public static TheoryData<string, CommandValidationError> Cases => new()
    {
        { "valid put", CommandValidationError.None },
        { "valid put at the limits", CommandValidationError.None },
        { "empty key", CommandValidationError.KeyEmpty },
        { "empty delete key", CommandValidationError.KeyEmpty },
        { "key too large", CommandValidationError.KeyTooLarge },
        { "delete key too large", CommandValidationError.KeyTooLarge },
        { "value too large", CommandValidationError.ValueTooLarge },
        { "zero ttl", CommandValidationError.TtlNotPositive },
        { "negative ttl", CommandValidationError.TtlNotPositive },
        { "ttl too large", CommandValidationError.TtlTooLarge },
        { "negative timestamp", CommandValidationError.TimestampOutOfRange },
        { "timestamp after 9999", CommandValidationError.TimestampOutOfRange },
        { "negative session", CommandValidationError.InvalidSessionId },
        { "sequence zero", CommandValidationError.InvalidSequence },
        { "lowest above sequence", CommandValidationError.InvalidSequence },
        { "lowest zero", CommandValidationError.InvalidSequence },
        { "too many in flight", CommandValidationError.TooManyInFlight },
        { "session on tick", CommandValidationError.SessionNotAllowed },
        { "unknown kind", CommandValidationError.UnknownKind },
    };

    private static CacheCommand Build(string name)
    {
        var k = TestLog.B("key");
        return name switch
        {
            "valid put" => CacheCommand.Put(k, TestLog.B("v"), TimeSpan.FromSeconds(1), 10).WithSession(1, 4, 1),
            "valid put at the limits" => CacheCommand.Put(new byte[8], new byte[16], TimeSpan.FromMinutes(1), CacheStateMachineOptions.MaxTimestampUnixMs),
            "empty key" => CacheCommand.Put(default, TestLog.B("v"), null, 10),
            "empty delete key" => CacheCommand.Delete(default, 10),
            "key too large" => CacheCommand.Put(new byte[9], default, null, 10),
            "delete key too large" => CacheCommand.Delete(new byte[9], 10),
            "value too large" => CacheCommand.Put(k, new byte[17], null, 10),
            "zero ttl" => CacheCommand.Put(k, default, TimeSpan.Zero, 10),
            "negative ttl" => CacheCommand.Put(k, default, TimeSpan.FromSeconds(-1), 10),
            "ttl too large" => CacheCommand.Put(k, default, TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(1), 10),
            "negative timestamp" => CacheCommand.Tick(-1),
            "timestamp after 9999" => CacheCommand.Tick(CacheStateMachineOptions.MaxTimestampUnixMs + 1),
            "negative session" => CacheCommand.Clear(1).WithSession(-1, 1, 1),
            "sequence zero" => CacheCommand.Clear(1).WithSession(1, 0, 0),
            "lowest above sequence" => CacheCommand.Clear(1).WithSession(1, 3, 4),
            "lowest zero" => CacheCommand.Clear(1).WithSession(1, 3, 0),
            "too many in flight" => CacheCommand.Clear(1).WithSession(1, 5, 1),
            "session on tick" => new CacheCommand(CommandKind.Tick, 1, default, default, null, 1, 1, 1),
            "unknown kind" => new CacheCommand((CommandKind)9, 1, default, default, null, 0, 0, 0),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_limit_is_reported_with_its_reason(string name, CommandValidationError expected)
    {
        var command = Build(name);
        Assert.Equal(expected, CommandValidator.Check(command, Options));
        if (expected == CommandValidationError.None)
        {
            CommandValidator.Validate(command, Options);
        }
        else
        {
            var e = Assert.Throws<CommandValidationException>(() => CommandValidator.Validate(command, Options));
            Assert.Equal(expected, e.Reason);
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
    }

    [Fact]
    public void Default_limits_are_one_kibibyte_keys_and_half_a_mebibyte_values()
    {
        var machine = new CacheStateMachine();
        machine.Validate(CacheCommand.Put(new byte[1024], new byte[512 * 1024], null, 1));
        Assert.Equal(CommandValidationError.KeyTooLarge,
            Assert.Throws<CommandValidationException>(() => machine.Validate(CacheCommand.Put(new byte[1025], default, null, 1))).Reason);
        Assert.Equal(CommandValidationError.ValueTooLarge,
            Assert.Throws<CommandValidationException>(() => machine.Validate(CacheCommand.Put(TestLog.B("k"), new byte[(512 * 1024) + 1], null, 1))).Reason);
    }

    [Fact]
    public void A_default_maximum_size_put_fits_a_one_mebibyte_raft_message()
    {
        var options = new CacheStateMachineOptions();
        Assert.True(options.MaxKeyBytes + options.MaxValueBytes + CommandCodec.MaxOverheadBytes < 1024 * 1024);
        var biggest = CacheCommand.Put(new byte[options.MaxKeyBytes], new byte[options.MaxValueBytes], options.MaxTtl, CacheStateMachineOptions.MaxTimestampUnixMs)
            .WithSession(long.MaxValue, long.MaxValue, long.MaxValue - 1);
        Assert.True(CommandCodec.GetEncodedLength(biggest) <= options.MaxKeyBytes + options.MaxValueBytes + CommandCodec.MaxOverheadBytes);
    }

    public static TheoryData<string> BadOptions => new()
    {
        nameof(CacheStateMachineOptions.MaxKeyBytes), nameof(CacheStateMachineOptions.MaxValueBytes), nameof(CacheStateMachineOptions.MaxTtl),
        nameof(CacheStateMachineOptions.MaxEntries), nameof(CacheStateMachineOptions.MaxTotalBytes), nameof(CacheStateMachineOptions.SessionIdleTimeout),
        nameof(CacheStateMachineOptions.MaxSessions), nameof(CacheStateMachineOptions.MaxInFlightPerSession),
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Options_validation_names_the_bad_setting(string setting)
    {
        var options = new CacheStateMachineOptions();
        switch (setting)
        {
            case nameof(CacheStateMachineOptions.MaxKeyBytes): options.MaxKeyBytes = 0; break;
            case nameof(CacheStateMachineOptions.MaxValueBytes): options.MaxValueBytes = -1; break;
            case nameof(CacheStateMachineOptions.MaxTtl): options.MaxTtl = TimeSpan.Zero; break;
            case nameof(CacheStateMachineOptions.MaxEntries): options.MaxEntries = 0; break;
            case nameof(CacheStateMachineOptions.MaxTotalBytes): options.MaxTotalBytes = options.MaxValueBytes; break;
            case nameof(CacheStateMachineOptions.SessionIdleTimeout): options.SessionIdleTimeout = TimeSpan.FromTicks(-1); break;
            case nameof(CacheStateMachineOptions.MaxSessions): options.MaxSessions = 0; break;
            case nameof(CacheStateMachineOptions.MaxInFlightPerSession): options.MaxInFlightPerSession = 0; break;
        }

        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(setting, e.ParamName);
        Assert.Contains(setting, e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CacheStateMachine(options));
    }

    [Fact]
    public void Default_options_are_valid_and_changing_them_later_does_not_affect_a_state_machine()
    {
        var options = new CacheStateMachineOptions();
        options.Validate();
        var machine = new CacheStateMachine(options);
        options.MaxKeyBytes = 1;
        Assert.Equal(1024, machine.Options.MaxKeyBytes);
    }
}
