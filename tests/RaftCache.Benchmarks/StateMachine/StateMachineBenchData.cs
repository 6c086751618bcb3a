using System.Buffers.Binary;
using RaftCache.StateMachine;

namespace RaftCache.Benchmarks.StateMachine;

/// <summary>Encoded Put entries of 16-byte keys and 100-byte values, as the replica would apply them.</summary>
internal static class StateMachineBenchData
{
    public const int KeyBytes = 16;
    public const int ValueBytes = 100;
    public const long StartTime = 1_700_000_000_000;

    public static byte[] Key(long i)
    {
        var key = new byte[KeyBytes];
        BinaryPrimitives.WriteInt64LittleEndian(key, i);
        BinaryPrimitives.WriteUInt64LittleEndian(key.AsSpan(8), (ulong)i * 0x9E3779B97F4A7C15UL);
        return key;
    }

    /// <summary>Puts of keys <c>i % keySpace</c>, one millisecond apart, without TTL (or with, every other one).</summary>
    public static byte[][] Puts(int count, int keySpace, bool withTtl)
    {
        var value = new byte[ValueBytes];
        value.AsSpan().Fill(0xAB);
        var entries = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            TimeSpan? ttl = withTtl && i % 2 == 0 ? TimeSpan.FromHours(1) : null;
            entries[i] = CommandCodec.Encode(CacheCommand.Put(Key(i % keySpace), value, ttl, StartTime + i));
        }

        return entries;
    }

    /// <summary>Puts without TTL of keys drawn at random (seeded) from <c>0 .. keySpace - 1</c>: overwrites all over the table.</summary>
    public static byte[][] RandomOverwrites(int count, int keySpace, int seed)
    {
        var random = new Random(seed);
        var value = new byte[ValueBytes];
        value.AsSpan().Fill(0xCD);
        var entries = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            entries[i] = CommandCodec.Encode(CacheCommand.Put(Key(random.Next(keySpace)), value, null, StartTime + i));
        }

        return entries;
    }

    public static CacheStateMachineOptions LargeOptions() => new() { MaxEntries = 20_000_000, MaxTotalBytes = 16L << 30 };

    public static CacheStateMachine Filled(int count)
    {
        var machine = new CacheStateMachine(LargeOptions());
        var entries = Puts(count, count, withTtl: true);
        for (var i = 0; i < entries.Length; i++)
        {
            machine.Apply(i + 1, entries[i]);
        }

        return machine;
    }
}
