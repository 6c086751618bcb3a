namespace RaftCache.Cli.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void An_empty_histogram_reports_zeros()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.ValueAt(0.5));
        Assert.Equal(0, histogram.Max);
    }

    [Fact]
    public void Values_below_256_ns_are_exact_and_percentiles_are_nearest_rank()
    {
        var histogram = new LatencyHistogram();
        // 1..100 in a scrambled order: the order of recording does not matter.
        foreach (var value in Enumerable.Range(1, 100).OrderBy(v => (v * 37) % 101)) histogram.Record(value);

        Assert.Equal(100, histogram.Count);
        Assert.Equal(100, histogram.Max);
        Assert.Equal(5050, histogram.Sum);
        Assert.Equal(1, histogram.ValueAt(0));
        Assert.Equal(1, histogram.ValueAt(0.01));
        Assert.Equal(50, histogram.ValueAt(0.5));
        Assert.Equal(90, histogram.ValueAt(0.9));
        Assert.Equal(99, histogram.ValueAt(0.99));
        Assert.Equal(100, histogram.ValueAt(0.999));
        Assert.Equal(100, histogram.ValueAt(1));
    }

    [Fact]
    public void Percentiles_of_large_values_are_within_the_bucket_error()
    {
        var histogram = new LatencyHistogram();
        // 1 ms .. 1000 ms in steps of 1 ms, in nanoseconds.
        for (var ms = 1; ms <= 1000; ms++) histogram.Record(ms * 1_000_000L);

        foreach (var (q, expectedMs) in new[] { (0.5, 500), (0.9, 900), (0.99, 990), (0.999, 999) })
        {
            var expected = expectedMs * 1_000_000.0;
            var reported = histogram.ValueAt(q);
            Assert.True(Math.Abs(reported - expected) / expected < 1.0 / 256, $"p{q * 100}: reported {reported}, true {expected}");
        }

        // The largest value is kept exactly and caps the top percentile.
        Assert.Equal(1_000_000_000, histogram.Max);
        Assert.Equal(1_000_000_000, histogram.ValueAt(1));
    }

    [Fact]
    public void A_bucket_midpoint_is_within_1_in_256_of_every_value_in_the_bucket()
    {
        // The documented bound is 0.8% (a bucket is at most 1/128 of its values wide); reporting the midpoint halves it.
        var random = new Random(7);
        var values = Enumerable.Range(0, 20_000).Select(_ => (long)Math.Exp(random.NextDouble() * Math.Log(1L << 39)))
            .Concat([0, 1, 255, 256, 257, 511, 512, 513, 1023, 1024, (1L << 39) - 1, 1L << 38]);
        foreach (var value in values)
        {
            var midpoint = LatencyHistogram.Midpoint(LatencyHistogram.IndexOf(value));
            if (value < 256) Assert.Equal(value, midpoint);
            else Assert.True(Math.Abs(midpoint - value) / value < 1.0 / 256, $"value {value}: bucket midpoint {midpoint}");
        }
    }

    [Fact]
    public void Bucket_indexes_grow_with_the_value_and_buckets_do_not_overlap()
    {
        var previous = -1;
        for (long value = 0; value < 1 << 20; value += 1 + value / 300)
        {
            var index = LatencyHistogram.IndexOf(value);
            Assert.True(index >= previous, $"value {value}: index {index} after {previous}");
            previous = index;
        }
    }

    [Fact]
    public void Values_beyond_the_range_fall_in_the_last_bucket_and_max_stays_exact()
    {
        var histogram = new LatencyHistogram();
        var huge = 1L << 45;
        histogram.Record(huge);
        histogram.Record(-5);
        Assert.Equal(2, histogram.Count);
        Assert.Equal(huge, histogram.Max);
        Assert.Equal(0, histogram.ValueAt(0.5));
        Assert.Equal(huge, histogram.ValueAt(1), 0);
        Assert.Equal(LatencyHistogram.IndexOf(long.MaxValue), LatencyHistogram.IndexOf(huge));
    }

    [Fact]
    public void Merging_equals_recording_everything_in_one_histogram()
    {
        var random = new Random(11);
        var values = Enumerable.Range(0, 5_000).Select(_ => (long)random.Next(1, 50_000_000)).ToArray();
        var whole = new LatencyHistogram();
        var parts = new[] { new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram() };
        for (var i = 0; i < values.Length; i++)
        {
            whole.Record(values[i]);
            parts[i % parts.Length].Record(values[i]);
        }

        var merged = new LatencyHistogram();
        foreach (var part in parts) merged.Add(part);

        Assert.Equal(whole.Count, merged.Count);
        Assert.Equal(whole.Max, merged.Max);
        Assert.Equal(whole.Sum, merged.Sum);
        foreach (var q in new[] { 0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0 }) Assert.Equal(whole.ValueAt(q), merged.ValueAt(q));

        // And the merged percentiles are close to the exact ones.
        var sorted = values.Order().ToArray();
        foreach (var q in new[] { 0.5, 0.9, 0.99 })
        {
            var exact = sorted[(int)Math.Ceiling(q * sorted.Length) - 1];
            Assert.True(Math.Abs(merged.ValueAt(q) - exact) / exact < 1.0 / 256, $"p{q * 100}: {merged.ValueAt(q)} vs {exact}");
        }
    }

    [Fact]
    public void Merging_an_empty_histogram_changes_nothing()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_000);
        histogram.Add(new LatencyHistogram());
        Assert.Equal(1, histogram.Count);
        Assert.Equal(1_000, histogram.Max);
    }
}
