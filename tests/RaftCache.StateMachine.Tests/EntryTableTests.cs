using System.Text;

namespace RaftCache.StateMachine.Tests;

public class EntryTableTests
{
    private static CacheEntry Entry(string key, string value, long writeIndex = 1) =>
        CacheEntry.Create(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value), CacheEntry.NoDeadline, writeIndex);

    private static void Set(EntryTable table, CacheEntry entry) => table.Set(entry, EntryTable.Hash(entry.Key));

    [Fact]
    public void Random_inserts_overwrites_and_removes_agree_with_a_dictionary()
    {
        var table = new EntryTable();
        var model = new Dictionary<string, string>();
        var rng = new Random(42);
        for (var step = 0; step < 200_000; step++)
        {
            // A small key space with many removes exercises tombstone reuse and purging; a growing one, resizing.
            var key = "k" + rng.Next(step < 100_000 ? 300 : 20_000);
            var keyBytes = Encoding.UTF8.GetBytes(key);
            if (rng.Next(3) == 0)
            {
                var removed = table.Remove(keyBytes);
                Assert.Equal(model.Remove(key, out var expected), removed is not null);
                if (removed is not null)
                {
                    Assert.Equal(expected, Encoding.UTF8.GetString(removed.Value));
                }
            }
            else
            {
                var value = "v" + step;
                Set(table, Entry(key, value));
                model[key] = value;
            }

            Assert.Equal(model.Count, table.Count);
        }

        foreach (var (key, value) in model)
        {
            Assert.Equal(value, Encoding.UTF8.GetString(table.Find(Encoding.UTF8.GetBytes(key))!.Value));
        }

        for (var i = 20_000; i < 21_000; i++)
        {
            Assert.Null(table.Find(Encoding.UTF8.GetBytes("k" + i)));
        }
    }

    [Fact]
    public void An_empty_key_never_matches_a_removed_slot()
    {
        var table = new EntryTable();
        Set(table, Entry("a", "1"));
        table.Remove("a"u8);
        Assert.Null(table.Find(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void Readers_never_miss_a_key_that_stays_present_while_others_churn_and_the_table_resizes()
    {
        var table = new EntryTable();
        var stable = Enumerable.Range(0, 100).Select(i => Entry("stable" + i, "s" + i)).ToArray();
        foreach (var entry in stable)
        {
            Set(table, entry);
        }

        var misses = 0;
        var done = false;
        var readers = Enumerable.Range(0, 2).Select(r => new Thread(() =>
        {
            var i = r;
            while (!Volatile.Read(ref done))
            {
                var expected = stable[i++ % stable.Length];
                if (!ReferenceEquals(expected, table.Find(expected.Key)))
                {
                    Interlocked.Increment(ref misses);
                }
            }
        })).ToArray();
        foreach (var reader in readers)
        {
            reader.Start();
        }

        // Grow to 100k churn keys (many resizes), then remove them all and add them back (tombstone purges).
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 100_000; i++)
            {
                Set(table, Entry("churn" + i, "c"));
            }

            for (var i = 0; i < 100_000; i++)
            {
                table.Remove(Encoding.UTF8.GetBytes("churn" + i));
            }
        }

        Volatile.Write(ref done, true);
        foreach (var reader in readers)
        {
            reader.Join();
        }

        Assert.Equal(0, misses);
        Assert.Equal(stable.Length, table.Count);
    }
}
