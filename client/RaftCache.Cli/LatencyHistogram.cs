using System.Numerics;

namespace RaftCache.Cli;

/// <summary>
/// Latencies in nanoseconds, in log-linear buckets (the HdrHistogram layout): exact below 256 ns, then 128 buckets
/// per power of two, so a reported percentile is within 0.8% of the true value.
/// </summary>
/// <remarks>
/// Why buckets and one histogram per worker: keeping every sample would grow with the run (10 s at 100k ops/s is
/// 8 MB per phase, and a longer run grows without bound), and a shared histogram would make 256 workers contend on
/// its counters. A histogram is a fixed 4,352 longs (34 KB); each worker records into its own without locks, and the
/// workers' histograms are summed once the phase ends.
/// </remarks>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int LinearLimit = 2 * SubBuckets;

    // 2^40 ns is about 18 minutes; a longer latency is counted in the last bucket (and still reported exactly as Max).
    private const int MaxExponent = 40;
    private const int BucketCount = LinearLimit + (MaxExponent - SubBucketBits - 1) * SubBuckets;

    private readonly long[] _counts = new long[BucketCount];

    /// <summary>Values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The largest value recorded.</summary>
    public long Max { get; private set; }

    /// <summary>The sum of the values recorded.</summary>
    public double Sum { get; private set; }

    /// <summary>Records one latency; a negative one counts as 0.</summary>
    public void Record(long nanoseconds)
    {
        if (nanoseconds < 0) nanoseconds = 0;
        _counts[IndexOf(nanoseconds)]++;
        Count++;
        Sum += nanoseconds;
        if (nanoseconds > Max) Max = nanoseconds;
    }

    /// <summary>Adds <paramref name="other"/>'s values to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < BucketCount; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>
    /// The value at quantile <paramref name="q"/> (0..1, nearest rank): the midpoint of the bucket holding it, at most
    /// <see cref="Max"/>; <see cref="Max"/> itself when it falls in the last bucket, which also holds every longer value.
    /// </summary>
    public double ValueAt(double q)
    {
        if (Count == 0) return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return i == BucketCount - 1 ? Max : Math.Min(Midpoint(i), Max);
        }

        return Max;
    }

    /// <summary>The bucket of <paramref name="value"/>.</summary>
    internal static int IndexOf(long value)
    {
        if (value < LinearLimit) return (int)value;
        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        if (exponent >= MaxExponent) return BucketCount - 1;
        var shift = exponent - SubBucketBits;
        var mantissa = (int)(value >> shift);
        return LinearLimit + (exponent - SubBucketBits - 1) * SubBuckets + (mantissa - SubBuckets);
    }

    /// <summary>The middle of the values bucket <paramref name="index"/> holds.</summary>
    internal static double Midpoint(int index)
    {
        if (index < LinearLimit) return index;
        var offset = index - LinearLimit;
        var shift = offset / SubBuckets + 1;
        var mantissa = (long)(offset % SubBuckets + SubBuckets);
        var low = mantissa << shift;
        var high = ((mantissa + 1) << shift) - 1;
        return (low + high) / 2.0;
    }
}
