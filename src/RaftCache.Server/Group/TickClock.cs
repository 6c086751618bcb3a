namespace RaftCache.Server.Group;

/// <summary>
/// Turns elapsed monotonic time into the Raft ticks one replica owes its node. The core counts time only in ticks
/// (design §2), so a driver that ticked once per timer callback would let a frozen process (a long GC pause, SIGSTOP,
/// a paused VM) resume one tick later however long the freeze lasted: its election and check-quorum timers, and its
/// leader lease (thesis §6.4.1), would not see the freeze. Counting whole intervals of elapsed time instead makes every
/// timer of the core see it.
/// </summary>
/// <remarks>
/// The count is rounded down, so it never runs ahead of the clock: a follower never counts more time than passed
/// since it heard from its leader, so never grants a vote early. A leader's count lags the clock by less than one tick,
/// which the lease's safety margin covers. Not thread-safe; one caller at a time, like the replica that owns it.
/// </remarks>
internal sealed class TickClock
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly int _maxCatchUp;
    private readonly long _origin;
    private long _counted;

    /// <summary>Starts counting now: no ticks are owed for time before.</summary>
    /// <param name="time">The monotonic clock (<see cref="TimeProvider.GetTimestamp"/>).</param>
    /// <param name="interval">The time one tick stands for.</param>
    /// <param name="maxCatchUp">
    /// The most ticks <see cref="TakeDue"/> returns at once; the ones beyond it are dropped, so that a long pause
    /// costs a bounded number of <c>Tick</c> calls. It must be at least as long as every timer of the core, so that a
    /// pause longer than it looks the same to the core as any other.
    /// </param>
    public TickClock(TimeProvider time, TimeSpan interval, int maxCatchUp)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCatchUp, 1);
        _time = time;
        _interval = interval;
        _maxCatchUp = maxCatchUp;
        _origin = time.GetTimestamp();
    }

    /// <summary>
    /// The ticks to run now: the whole intervals elapsed since they were last taken, at most the catch-up bound.
    /// They count as taken either way (a tick dropped for the bound is not owed later).
    /// </summary>
    public int TakeDue()
    {
        var elapsed = _time.GetElapsedTime(_origin).Ticks / _interval.Ticks;
        var due = elapsed - _counted;
        if (due <= 0) return 0;
        _counted = elapsed;
        return (int)Math.Min(due, _maxCatchUp);
    }
}
