namespace RaftCache.Cli.Tests;

public sealed class ValueInputTests
{
    [Fact]
    public async Task A_file_is_read_as_raw_bytes()
    {
        var path = Path.GetTempFileName();
        try
        {
            byte[] bytes = [0, 1, 2, 0xff, 0xfe, (byte)'\n'];
            await File.WriteAllBytesAsync(path, bytes);
            var read = await ValueInput.ReadAsync(path, CancellationToken.None);
            Assert.Null(read.Error);
            Assert.Equal(bytes, read.Value);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_missing_file_is_a_usage_error_naming_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "raftcache-no-such-" + Guid.NewGuid().ToString("N"), "value.bin");
        var read = await ValueInput.ReadAsync(path, CancellationToken.None);
        Assert.Null(read.Value);
        Assert.Equal(ExitCodes.Usage, read.ExitCode);
        Assert.Contains($"the value file '{path}'", read.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_directory_is_a_usage_error_naming_the_path()
    {
        var read = await ValueInput.ReadAsync(Path.GetTempPath(), CancellationToken.None);
        Assert.Equal(ExitCodes.Usage, read.ExitCode);
        Assert.Contains(Path.GetTempPath(), read.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_is_read_to_its_end_in_several_chunks()
    {
        var bytes = new byte[300_000];
        new Random(3).NextBytes(bytes);
        var read = await ValueInput.ReadAsync(new MemoryStream(bytes), "standard input", CancellationToken.None);
        Assert.Equal(bytes, read.Value);
    }

    [Fact]
    public async Task An_empty_stream_is_an_empty_value()
    {
        var read = await ValueInput.ReadAsync(new MemoryStream(), "standard input", CancellationToken.None);
        Assert.Equal(ExitCodes.Ok, read.ExitCode);
        Assert.Empty(read.Value!);
    }

    [Fact]
    public async Task More_than_any_cluster_accepts_is_refused_without_reading_it_all()
    {
        var stream = new EndlessStream();
        var read = await ValueInput.ReadAsync(stream, "standard input", CancellationToken.None);
        Assert.Null(read.Value);
        Assert.Equal(ExitCodes.InvalidArgument, read.ExitCode);
        Assert.Contains("standard input holds more than 64 MiB", read.Error, StringComparison.Ordinal);
        Assert.True(stream.Served <= ValueInput.MaxBytes + 100_000, $"read {stream.Served} bytes");
    }

    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Served; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Served += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
