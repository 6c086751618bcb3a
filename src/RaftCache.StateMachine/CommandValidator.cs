namespace RaftCache.StateMachine;

/// <summary>
/// Checks commands against the limits. The leader validates before proposing; the state machine checks again when
/// applying and answers a committed command that breaks the limits with <see cref="ApplyOutcome.Rejected"/> (every
/// replica decides the same way), so apply never throws for it.
/// </summary>
public static class CommandValidator
{
    /// <summary>Returns the first limit <paramref name="command"/> breaks, or <see cref="CommandValidationError.None"/>.</summary>
    public static CommandValidationError Check(in CacheCommand command, CacheStateMachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (command.Kind is < CommandKind.Put or > CommandKind.Refresh)
        {
            return CommandValidationError.UnknownKind;
        }

        if (command.TimestampUnixMs is < 0 or > CacheStateMachineOptions.MaxTimestampUnixMs)
        {
            return CommandValidationError.TimestampOutOfRange;
        }

        if (command.Kind is CommandKind.Put or CommandKind.Delete or CommandKind.Increment or CommandKind.Refresh)
        {
            if (command.Key.IsEmpty)
            {
                return CommandValidationError.KeyEmpty;
            }

            if (command.Key.Length > options.MaxKeyBytes)
            {
                return CommandValidationError.KeyTooLarge;
            }
        }

        if (command.Kind == CommandKind.Put)
        {
            if (command.Value.Length > options.MaxValueBytes)
            {
                return CommandValidationError.ValueTooLarge;
            }

            if (command.SlidingMilliseconds is { } sliding)
            {
                if (sliding <= 0)
                {
                    return CommandValidationError.TtlNotPositive;
                }

                if (sliding > (long)options.MaxTtl.TotalMilliseconds)
                {
                    return CommandValidationError.TtlTooLarge;
                }
            }

            if (command.AbsoluteDeadlineUnixMs is < 0 or > CacheStateMachineOptions.MaxTimestampUnixMs)
            {
                return CommandValidationError.TimestampOutOfRange;
            }

            if (command.ExpectedVersion < 0)
            {
                return CommandValidationError.InvalidVersion;
            }
        }

        if (command.Kind is CommandKind.Put or CommandKind.Increment)
        {
            if (command.TtlMilliseconds is { } ttl)
            {
                if (ttl <= 0)
                {
                    return CommandValidationError.TtlNotPositive;
                }

                if (ttl > (long)options.MaxTtl.TotalMilliseconds)
                {
                    return CommandValidationError.TtlTooLarge;
                }
            }
        }

        if (command.SessionId != 0)
        {
            if (!CacheCommand.IsSessionWrite(command.Kind))
            {
                return CommandValidationError.SessionNotAllowed;
            }

            if (command.SessionId < 0)
            {
                return CommandValidationError.InvalidSessionId;
            }

            if (command.Sequence < 1 || command.LowestUnackedSequence < 1 || command.LowestUnackedSequence > command.Sequence)
            {
                return CommandValidationError.InvalidSequence;
            }

            if (command.Sequence - command.LowestUnackedSequence >= options.MaxInFlightPerSession)
            {
                return CommandValidationError.TooManyInFlight;
            }
        }

        return CommandValidationError.None;
    }

    /// <summary>Throws if <paramref name="command"/> breaks a limit. Call on the leader before proposing.</summary>
    /// <exception cref="CommandValidationException">The command breaks a limit; <see cref="CommandValidationException.Reason"/> says which.</exception>
    public static void Validate(in CacheCommand command, CacheStateMachineOptions options)
    {
        var error = Check(command, options);
        if (error != CommandValidationError.None)
        {
            throw new CommandValidationException(error);
        }
    }
}
