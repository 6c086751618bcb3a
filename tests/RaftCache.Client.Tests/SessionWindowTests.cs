namespace RaftCache.Client.Tests;

public sealed class SessionWindowTests
{
    [Fact]
    public async Task NumbersWithinTheWindowAreHandedOutAtOnceInOrder()
    {
        var window = new SessionWindow(sessionId: 1, size: 3, maxWaiting: 10);
        Assert.Equal(1, await window.EnterAsync(default));
        Assert.Equal(2, await window.EnterAsync(default));
        Assert.Equal(3, await window.EnterAsync(default));
        Assert.Equal(1, window.LowestUnanswered(3));
    }

    [Fact]
    public async Task TheWindowIsADistanceSoOneSlowWriteHoldsBackLaterNumbers()
    {
        var window = new SessionWindow(1, size: 3, maxWaiting: 10);
        for (var i = 0; i < 3; i++) await window.EnterAsync(default);
        window.Leave(2);
        window.Leave(3);

        // Only #1 is unanswered, but #4 would be 3 ahead of it: it waits.
        var fourth = window.EnterAsync(default).AsTask();
        Assert.False(fourth.IsCompleted);
        Assert.Equal(1, window.Waiting);

        window.Leave(1);
        Assert.Equal(4, await fourth);
        Assert.Equal(4, window.LowestUnanswered(4));
    }

    [Fact]
    public async Task WaitersAreAdmittedInArrivalOrder()
    {
        var window = new SessionWindow(1, size: 1, maxWaiting: 10);
        Assert.Equal(1, await window.EnterAsync(default));
        var second = window.EnterAsync(default).AsTask();
        var third = window.EnterAsync(default).AsTask();

        window.Leave(1);
        Assert.Equal(2, await second);
        Assert.False(third.IsCompleted);
        window.Leave(2);
        Assert.Equal(3, await third);
    }

    [Fact]
    public async Task ACancelledWaiterLeavesTheQueueWithoutTakingANumber()
    {
        var window = new SessionWindow(1, size: 1, maxWaiting: 10);
        await window.EnterAsync(default);
        using var cancel = new CancellationTokenSource();
        var cancelled = window.EnterAsync(cancel.Token).AsTask();
        var next = window.EnterAsync(default).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        window.Leave(1);
        Assert.Equal(2, await next);
    }

    [Fact]
    public async Task ClosingTellsWaitersToUseTheNextSession()
    {
        var window = new SessionWindow(1, size: 1, maxWaiting: 10);
        await window.EnterAsync(default);
        var waiting = window.EnterAsync(default).AsTask();

        window.Close();
        Assert.Equal(0, await waiting);
        Assert.Equal(0, await window.EnterAsync(default));
    }

    [Fact]
    public async Task AFullQueueRefusesWithOverloaded()
    {
        var window = new SessionWindow(1, size: 1, maxWaiting: 1);
        await window.EnterAsync(default);
        var waiting = window.EnterAsync(default).AsTask();
        await Assert.ThrowsAsync<CacheOverloadedException>(async () => await window.EnterAsync(default));
        Assert.False(waiting.IsCompleted);
    }
}
