using System.Text;

namespace RaftCache.Client.Tests;

/// <summary>
/// Cancellation says what is known: canceled before the command left the client, nothing was applied
/// (<see cref="OperationCanceledException"/>); a write canceled after it left may still be applied
/// (<see cref="CacheOutcomeUnknownException"/>); a read canceled at any time changed nothing.
/// </summary>
public sealed class CancellationTests
{
    private readonly ScriptedFacade _facade = new();

    private RaftCacheClient Client(RaftCacheClientOptions? options = null) =>
        new(new ScriptedGrainFactory(_facade), options ?? new RaftCacheClientOptions());


    private List<string> WrittenKeys => [.. _facade.Writes.Select(w => Encoding.UTF8.GetString(w.Key!))];

    [Fact]
    public async Task AnAlreadyCanceledTokenSendsNothing()
    {
        using var client = Client();
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PutAsync("k", "v", cancellationToken: canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("k", cancellationToken: canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DeleteAsync("k", canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ClearAsync(canceled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetStatusAsync(canceled.Token));
        Assert.Empty(_facade.Batches);
    }

    [Fact]
    public async Task AWriteCanceledWhileWaitingForACallSlotIsNeverSent()
    {
        var release = new TaskCompletionSource<CacheReply?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _facade.BeforeWrite = write => Encoding.UTF8.GetString(write.Key!) == "first" ? release.Task : Task.FromResult<CacheReply?>(null);
        using var client = Client(new RaftCacheClientOptions { MaxCallsInFlight = 1 });
        await client.PutAsync("warm", "session");

        var first = client.PutAsync("first", "v");
        await Wait.UntilAsync(() => WrittenKeys.Contains("first"));
        using var cancel = new CancellationTokenSource();
        var waiting = client.PutAsync("canceled", "v", cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Contains("nothing was applied", error.Message, StringComparison.Ordinal);

        release.SetResult(null);
        await first;
        // A later write leaves after the slot is free: the canceled one would have gone with it or before it.
        await client.PutAsync("later", "v");
        Assert.Equal(["warm", "first", "later"], WrittenKeys);
    }

    [Fact]
    public async Task AWriteCanceledAfterItWasSentHasAnUnknownOutcome()
    {
        var hold = new TaskCompletionSource<CacheReply?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _facade.BeforeWrite = write => Encoding.UTF8.GetString(write.Key!) == "sent" ? hold.Task : Task.FromResult<CacheReply?>(null);
        using var client = Client();
        await client.PutAsync("warm", "session");

        using var cancel = new CancellationTokenSource();
        var write = client.PutAsync("sent", "v", cancellationToken: cancel.Token);
        await Wait.UntilAsync(() => WrittenKeys.Contains("sent"));
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<CacheOutcomeUnknownException>(() => write);
        Assert.IsAssignableFrom<OperationCanceledException>(error.InnerException);

        // The cluster's late answer changes nothing for the caller, and the client goes on.
        hold.SetResult(null);
        await client.PutAsync("after", "v");
    }

    [Fact]
    public async Task AReadCanceledAfterItWasSentIsCanceled()
    {
        var hold = new TaskCompletionSource<CacheReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reads = 0;
        _facade.Read = _ => Interlocked.Increment(ref reads) == 1 ? hold.Task : Task.FromResult(new CacheReply());
        using var client = Client();
        using var cancel = new CancellationTokenSource();
        var read = client.GetAsync("k", cancellationToken: cancel.Token);
        await Wait.UntilAsync(() => Volatile.Read(ref reads) == 1);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        hold.SetResult(new CacheReply());
        Assert.Null(await client.GetAsync("k"));
    }
}
