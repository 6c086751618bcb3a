using System.Text;

namespace RaftCache.StateMachine.Tests;

public class EntryTableTests
{
    private static byte[] NewEntry(string key, string value, long writeIndex = 1) =>
        Entry.Create(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value), Entry.NoDeadline, writeIndex);

    private static void Set(EntryTable table, byte[] entry) => table.Set(entry, EntryTable.Hash(Entry.Key(entry)));

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
                    Assert.Equal(expected, Encoding.UTF8.GetString(Entry.Value(removed)));
                }
            }
            else
            {
                var value = "v" + step;
                Set(table, NewEntry(key, value));
                model[key] = value;
            }

            Assert.Equal(model.Count, table.Count);
        }

        foreach (var (key, value) in model)
        {
            Assert.Equal(value, Encoding.UTF8.GetString(Entry.Value(table.Find(Encoding.UTF8.GetBytes(key))!)));
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
        Set(table, NewEntry("a", "1"));
        table.Remove("a"u8);
        Assert.Null(table.Find(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void Readers_never_miss_a_key_that_stays_present_while_others_churn_and_the_table_resizes()
    {
        var table = new EntryTable();
        var stable = Enumerable.Range(0, 100).Select(i => NewEntry("stable" + i, "s" + i)).ToArray();
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
                if (!ReferenceEquals(expected, table.Find(Entry.Key(expected))))
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
                Set(table, NewEntry("churn" + i, "c"));
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

    [Fact]
    public void Pages_captured_for_a_view_never_change_while_the_table_churns_and_readers_still_find_every_key()
    {
        var table = new EntryTable();
        var stable = Enumerable.Range(0, 100).Select(i => NewEntry("stable" + i, "s" + i)).ToArray();
        foreach (var entry in stable)
        {
            Set(table, entry);
        }

        var misses = 0;
        var done = false;
        var reader = new Thread(() =>
        {
            var i = 0;
            while (!Volatile.Read(ref done))
            {
                var expected = stable[i++ % stable.Length];
                if (!ReferenceEquals(expected, table.Find(Entry.Key(expected))))
                {
                    Interlocked.Increment(ref misses);
                }
            }
        });
        reader.Start();

        // Views come and go while the table grows past many pages, is overwritten and emptied; each view's pages must
        // keep exactly the references they had at capture (compared with a deep copy taken then).
        var views = new List<(byte[]?[][] Pages, byte[]?[][] Copy, int Generation)>();
        var rng = new Random(3);
        for (var step = 0; step < 120_000; step++)
        {
            var key = "churn" + rng.Next(40_000);
            if (rng.Next(4) == 0)
            {
                table.Remove(Encoding.UTF8.GetBytes(key));
            }
            else
            {
                Set(table, NewEntry(key, "v" + step));
            }

            if (step % 9_000 == 0)
            {
                var (pages, generation) = table.Capture();
                views.Add((pages, pages.Select(p => (byte[]?[])p.Clone()).ToArray(), generation));
            }

            if (step % 13_000 == 0 && views.Count > 0)
            {
                var oldest = views[0];
                AssertUnchanged(oldest.Pages, oldest.Copy);
                table.Release(oldest.Generation);
                views.RemoveAt(0);
            }
        }

        Volatile.Write(ref done, true);
        reader.Join();
        foreach (var (pages, copy, generation) in views)
        {
            AssertUnchanged(pages, copy);
            table.Release(generation);
        }

        Assert.Equal(0, misses);
        Assert.True(table.PageCopies > 0);
    }

    private static void AssertUnchanged(byte[]?[][] pages, byte[]?[][] copy)
    {
        Assert.Equal(copy.Length, pages.Length);
        for (var p = 0; p < pages.Length; p++)
        {
            for (var s = 0; s < pages[p].Length; s++)
            {
                Assert.Same(copy[p][s], pages[p][s]);
            }
        }
    }
}
