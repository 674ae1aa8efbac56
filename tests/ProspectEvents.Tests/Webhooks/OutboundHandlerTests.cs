using System.Net;
using System.Net.Sockets;
using System.Text;
using ProspectEvents.Server.Webhooks;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>The dispatcher's handler against real sockets on loopback: the guard must hold at connect time, not only at registration.</summary>
public sealed class OutboundHandlerTests : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public OutboundHandlerTests() => _listener.Start();

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Dispose() => _listener.Dispose();

    // A short overall timeout so a regression (a followed redirect, a connection let through) fails fast instead of hanging.
    private static HttpClient Client(bool allowPrivateNetworks) =>
        new(OutboundGuard.CreateHandler(allowPrivateNetworks, ConnectTimeout)) { Timeout = TimeSpan.FromSeconds(10) };

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task ALoopbackTargetIsRefusedBeforeAnyConnectionIsMade(string host)
    {
        using var client = Client(allowPrivateNetworks: false);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync($"http://{host}:{Port}/hooks", new StringContent("{}")));

        Assert.Contains($"refused to connect to {host}: it resolves to a private or loopback address", error.ToString(), StringComparison.Ordinal);
        Assert.False(_listener.Pending());
    }

    [Fact]
    public async Task ALoopbackTargetIsReachedWhenPrivateNetworksAreAllowed()
    {
        using var client = Client(allowPrivateNetworks: true);

        var sending = client.PostAsync($"http://127.0.0.1:{Port}/hooks", new StringContent("""{"event_id":"ev_1"}"""));
        var request = await AnswerOnceAsync(_listener, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        using var response = await sending;

        Assert.StartsWith("POST /hooks HTTP/1.1", request, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AnIpv6LiteralHostIsConnectedLikeAnyOther()
    {
        using var listener = new TcpListener(IPAddress.IPv6Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = Client(allowPrivateNetworks: true);

        var sending = client.GetAsync($"http://[::1]:{port}/hooks");
        await AnswerOnceAsync(listener, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        using var response = await sending;

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task ARedirectIsReturnedAsItIsNotFollowed()
    {
        using var client = Client(allowPrivateNetworks: true);

        var sending = client.PostAsync($"http://127.0.0.1:{Port}/hooks", new StringContent("{}"));
        await AnswerOnceAsync(_listener, $"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{Port}/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        using var response = await sending;

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.False(_listener.Pending());
    }

    [Fact]
    public async Task ASnippetReadsNoMoreThanItsLimitOfAnEndlessBody()
    {
        using var content = new StreamContent(new EndlessStream((byte)'a'));

        var snippet = await OutboundGuard.ReadSnippetAsync(content, 1000, CancellationToken.None);

        Assert.Equal(new string('a', 1000), snippet);
    }

    [Fact]
    public async Task AShortBodyIsReadWhole() =>
        Assert.Equal("Directrice générale", await OutboundGuard.ReadSnippetAsync(new StringContent("Directrice générale"), 1000, CancellationToken.None));

    [Fact]
    public async Task ACharacterCutByTheLimitIsDroppedAndInvalidBytesAreReplaced()
    {
        Assert.Equal("h", await OutboundGuard.ReadSnippetAsync(new ByteArrayContent("hé"u8.ToArray()), 2, CancellationToken.None));
        Assert.Equal("a\uFFFDb", await OutboundGuard.ReadSnippetAsync(new ByteArrayContent([(byte)'a', 0xFF, (byte)'b']), 100, CancellationToken.None));
    }

    [Fact]
    public async Task ANulCharacterIsReplacedBecausePostgresTextCannotHoldIt() =>
        Assert.Equal("bad\uFFFDbody", await OutboundGuard.ReadSnippetAsync(new StringContent("bad\0body"), 100, CancellationToken.None));

    /// <summary>Accepts one connection, reads the request head, writes <paramref name="response"/>, and returns what was read.</summary>
    private static async Task<string> AnswerOnceAsync(TcpListener listener, string response)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var socket = await listener.AcceptSocketAsync(timeout.Token);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            if (read == 0) break;
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        await socket.SendAsync(Encoding.ASCII.GetBytes(response), timeout.Token);
        socket.Shutdown(SocketShutdown.Both);
        return received.ToString();
    }

    private sealed class EndlessStream(byte fill) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Fill(buffer, fill, offset, count);
            return count;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
