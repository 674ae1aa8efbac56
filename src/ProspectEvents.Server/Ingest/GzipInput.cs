using System.IO.Pipelines;
using ICSharpCode.SharpZipLib.GZip;

namespace ProspectEvents.Server.Ingest;

/// <summary>
/// A gzip input, decompressed on a thread of its own into a pipe the ingest reads. SharpZipLib's stream checks each
/// member's trailer (CRC-32 and length) and reads concatenated members (<c>cat a.gz b.gz</c>) as one input, and it throws
/// on a stream that ends inside a member, where .NET's GZipStream ends silently: a truncated feed would pass for a whole
/// one. Its inflater is managed code, about half as fast as .NET's native one, so it runs beside the parsing instead of
/// in front of it; and its reads are blocking, which here blocks this thread, never one of the pool's (an HTTP body is
/// read asynchronously below it).
/// </summary>
internal sealed class GzipInput
{
    private const int ChunkBytes = 64 * 1024;

    private readonly PipeReader _compressed;
    private readonly Pipe _pipe;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Exception? _error;

    /// <param name="compressed">the input, from its first byte; completed when the stream ends</param>
    /// <param name="heldBytes">the most the reader keeps unconsumed (its longest line): the pipe holds more before it pauses</param>
    public GzipInput(PipeReader compressed, long heldBytes)
    {
        _compressed = compressed;
        var pause = heldBytes + 1024 * 1024;
        // Segments as large as the plain input's reads (4 KiB by default: most lines would straddle two and be copied).
        _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: pause, resumeWriterThreshold: pause / 2, minimumSegmentSize: 128 * 1024, useSynchronizationContext: false));
        new Thread(Run) { IsBackground = true, Name = "Ingest gzip" }.Start();
    }

    /// <summary>The decompressed bytes. It completes without an error even when the stream breaks: see <see cref="Error"/>.</summary>
    public PipeReader Reader => _pipe.Reader;

    /// <summary>
    /// Why the stream broke off (truncated, corrupt, or its source failed); null while it reads and when it ended cleanly.
    /// Set before <see cref="Reader"/> completes, so the ingest reads every byte decompressed before the break first:
    /// where it stops never depends on timing.
    /// </summary>
    public Exception? Error => _error;

    /// <summary>Completes when the thread has finished with the input.</summary>
    public Task Done => _done.Task;

    private void Run()
    {
        try
        {
            // A buffer of its own rather than the pipe's memory: every read has the same size, so how far a broken
            // stream gets never depends on how the pipe's segments happened to be filled.
            var buffer = new byte[ChunkBytes];
            using var gzip = new GZipInputStream(_compressed.AsStream(leaveOpen: true), ChunkBytes);
            while (true)
            {
                var read = gzip.Read(buffer, 0, buffer.Length);
                if (read == 0) break;
                // Blocks while the ingest is a pipe's worth behind.
                if (_pipe.Writer.WriteAsync(buffer.AsMemory(0, read)).AsTask().GetAwaiter().GetResult().IsCompleted) break; // the ingest stopped
            }
        }
        catch (Exception e)
        {
            _error = e;
        }
        finally
        {
            _pipe.Writer.Complete();
            _compressed.Complete();
            _done.SetResult();
        }
    }
}
