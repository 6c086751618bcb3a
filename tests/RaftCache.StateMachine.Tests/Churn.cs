namespace RaftCache.StateMachine.Tests;

/// <summary>
/// A seeded stream of random commands applied identically to one or more logs: puts of new keys (the table grows),
/// overwrites, deletes, puts with TTLs that expire as log time advances, ticks, rare clears, session registrations and
/// session writes. With a capacity bound in the options, new keys also evict.
/// </summary>
internal sealed class Churn
{
    private readonly Random _random;
    private readonly List<(long Id, long Next)> _sessions = [];
    private long _time;
    private int _nextKey;

    public Churn(int seed, long startTime = 1_000_000, int existingKeys = 0)
    {
        _random = new Random(seed);
        _time = startTime;
        _nextKey = existingKeys;
    }

    /// <summary>Clears per 100,000 commands.</summary>
    public int ClearsPer100K { get; set; } = 20;

    public static byte[] Key(int n) => TestLog.B("key" + n);

    /// <summary>Puts keys 0 .. <paramref name="count"/> - 1 (every third with a 1-hour TTL) into the logs.</summary>
    public static void Fill(int count, long time, params TestLog[] logs)
    {
        for (var i = 0; i < count; i++)
        {
            var command = CacheCommand.Put(Key(i), TestLog.B("value" + i), i % 3 == 0 ? TimeSpan.FromHours(1) : null, time);
            foreach (var log in logs)
            {
                log.Apply(command);
            }
        }
    }

    /// <summary>Puts <paramref name="count"/> new keys without TTL: the table grows and, at a bound, evicts.</summary>
    public void Insert(int count, params TestLog[] logs)
    {
        for (var n = 0; n < count; n++)
        {
            var command = CacheCommand.Put(Key(_nextKey++), TestLog.B("inserted"), null, _time);
            foreach (var log in logs)
            {
                Assert.True(log.Apply(command).Stored);
            }
        }
    }

    public void Apply(int count, params TestLog[] logs)
    {
        for (var n = 0; n < count; n++)
        {
            _time += _random.Next(0, 40);
            var command = Next(out var registers);
            ApplyResult? first = null;
            foreach (var log in logs)
            {
                var result = log.Apply(command);
                Assert.Equal(first ?? result, result);
                first = result;
            }

            if (registers)
            {
                _sessions.Add((first!.Value.SessionId, 1));
            }
        }
    }

    private CacheCommand Next(out bool registers)
    {
        registers = false;
        var roll = _random.Next(100_000);
        if (roll < ClearsPer100K)
        {
            return CacheCommand.Clear(_time);
        }

        roll %= 1_000;
        if (roll < 380)
        {
            return Put(_nextKey++);
        }

        if (roll < 630)
        {
            return Put(_random.Next(Math.Max(1, _nextKey)));
        }

        if (roll < 780)
        {
            return CacheCommand.Delete(Key(_random.Next(Math.Max(1, _nextKey))), _time);
        }

        if (roll < 880)
        {
            _time += _random.Next(0, 3_000);
            return CacheCommand.Tick(_time);
        }

        if (roll < 900 || _sessions.Count == 0)
        {
            registers = true;
            return CacheCommand.RegisterSession(_time);
        }

        var i = _random.Next(_sessions.Count);
        var (id, next) = _sessions[i];
        _sessions[i] = (id, next + 1);
        return Put(_random.Next(Math.Max(1, _nextKey))).WithSession(id, next, Math.Max(1, next - _random.Next(3)));
    }

    private CacheCommand Put(int key)
    {
        var value = new byte[_random.Next(0, 40)];
        _random.NextBytes(value);
        TimeSpan? ttl = _random.Next(2) == 0 ? TimeSpan.FromMilliseconds(_random.Next(1, 20_000)) : null;
        return CacheCommand.Put(Key(key), value, ttl, _time);
    }
}
