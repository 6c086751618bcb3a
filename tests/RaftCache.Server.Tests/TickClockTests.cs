using Microsoft.Extensions.Time.Testing;
using RaftCache.Server.Group;

namespace RaftCache.Server.Tests;

/// <summary>Elapsed monotonic time becomes Raft ticks: whole intervals, never ahead of the clock, bounded after a pause.</summary>
public class TickClockTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private const int MaxCatchUp = 20;

    [Fact]
    public void NoTicksAreOwedForTimeBeforeTheClockStarted()
    {
        var time = new FakeTimeProvider();
        time.Advance(TimeSpan.FromHours(1));
        var clock = new TickClock(time, Interval, MaxCatchUp);
        Assert.Equal(0, clock.TakeDue());
        time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, clock.TakeDue());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, clock.TakeDue());
    }

    [Fact]
    public void ACallbackOnTimeRunsOneTickAndALateOneRunsEveryTickTheElapsedTimeWarrants()
    {
        var time = new FakeTimeProvider();
        var clock = new TickClock(time, Interval, MaxCatchUp);

        time.Advance(Interval);
        Assert.Equal(1, clock.TakeDue());

        // 350 ms late: the clock is at 550 ms, 5 whole intervals, of which 1 was taken.
        time.Advance(TimeSpan.FromMilliseconds(450));
        Assert.Equal(4, clock.TakeDue());

        // The half interval left over is not lost: at 600 ms the sixth tick is due.
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(1, clock.TakeDue());

        // Asked twice at the same instant, the ticks are owed once.
        Assert.Equal(0, clock.TakeDue());
    }

    [Fact]
    public void ALongPauseRunsAtMostTheBoundAndTheTicksBeyondItAreNotOwedLater()
    {
        var time = new FakeTimeProvider();
        var clock = new TickClock(time, Interval, MaxCatchUp);

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(MaxCatchUp, clock.TakeDue());

        time.Advance(Interval);
        Assert.Equal(1, clock.TakeDue());
    }
}
