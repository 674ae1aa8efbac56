using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ProspectEvents.Server.Webhooks;

/// <summary>
/// Keeps webhook deliveries off the service's own network (SSRF): a partner-supplied URL must not reach loopback,
/// private, link-local or cloud-metadata addresses unless <c>Webhooks:AllowPrivateNetworks</c> says so. Checked once
/// when the URL is registered (for a clear 422) and again at every connect, after DNS, so a name that later
/// re-resolves to an internal address (DNS rebinding) is still refused.
/// </summary>
public static class OutboundGuard
{
    /// <summary>IPv4 ranges that are not globally reachable (IANA special-purpose registry), plus multicast.</summary>
    private static readonly IPNetwork[] ForbiddenV4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),       // "this network", includes 0.0.0.0
        IPNetwork.Parse("10.0.0.0/8"),      // private
        IPNetwork.Parse("100.64.0.0/10"),   // carrier-grade NAT; includes Alibaba's metadata 100.100.100.200
        IPNetwork.Parse("127.0.0.0/8"),     // loopback
        IPNetwork.Parse("169.254.0.0/16"),  // link-local; includes the AWS/GCP/Azure metadata 169.254.169.254
        IPNetwork.Parse("172.16.0.0/12"),   // private
        IPNetwork.Parse("192.0.0.0/24"),    // IETF protocol assignments
        IPNetwork.Parse("192.0.2.0/24"),    // documentation
        IPNetwork.Parse("192.168.0.0/16"),  // private
        IPNetwork.Parse("198.18.0.0/15"),   // benchmarking
        IPNetwork.Parse("198.51.100.0/24"), // documentation
        IPNetwork.Parse("203.0.113.0/24"),  // documentation
        IPNetwork.Parse("224.0.0.0/4"),     // multicast
        IPNetwork.Parse("240.0.0.0/4"),     // reserved; includes the broadcast 255.255.255.255
    ];

    private static readonly IPNetwork[] ForbiddenV6 =
    [
        IPNetwork.Parse("::/96"),           // unspecified, loopback and the deprecated IPv4-compatible form
        IPNetwork.Parse("64:ff9b:1::/48"),  // local-use NAT64
        IPNetwork.Parse("100::/64"),        // discard-only
        IPNetwork.Parse("2001:db8::/32"),   // documentation
        IPNetwork.Parse("fc00::/7"),        // unique-local; includes the AWS metadata fd00:ec2::254
        IPNetwork.Parse("fe80::/10"),       // link-local
        IPNetwork.Parse("fec0::/10"),       // site-local (deprecated)
        IPNetwork.Parse("ff00::/8"),        // multicast
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>
    /// True when a webhook must not connect to <paramref name="address"/>. IPv6 forms that carry an IPv4 address
    /// (mapped <c>::ffff:a.b.c.d</c>, NAT64 <c>64:ff9b::a.b.c.d</c>, 6to4 <c>2002:aabb:ccdd::</c>) are judged by the IPv4
    /// address they lead to.
    /// </summary>
    public static bool IsForbidden(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork) return ForbiddenV4.Any(n => n.Contains(address));
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return true;

        if (address.IsIPv4MappedToIPv6) return IsForbidden(address.MapToIPv4());
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        if (Nat64.Contains(address)) return IsForbidden(new IPAddress(bytes[12..]));
        if (SixToFour.Contains(address)) return IsForbidden(new IPAddress(bytes[2..6]));
        return ForbiddenV6.Any(n => n.Contains(address));
    }

    /// <summary>
    /// Null when <paramref name="url"/> may be registered as a webhook, else the reason, worded for a 422. Resolves the
    /// host (IP literals are judged as written) and refuses it when any address is forbidden: the sender could be
    /// handed any of them.
    /// </summary>
    private static readonly System.Buffers.SearchValues<char> UrlBlanks = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x21).Select(c => (char)c), '\u007f', '\u0085', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff',
         .. Enumerable.Range(0x2000, 0x0B).Select(c => (char)c)]);

    public static async Task<string?> CheckUrlAsync(string url, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(url)) return "webhook_url is required";
        // Uri trims and percent-encodes what it is given; a URL as registered is sent as is, so it must need neither.
        if (url.AsSpan().ContainsAny(UrlBlanks)) return "webhook_url must not contain spaces or control characters; percent-encode them";
        // On Unix a path like "/hooks" parses as an absolute file: URI; the scheme check turns it away.
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            return "webhook_url must be an absolute http or https URL";
        if (string.IsNullOrEmpty(uri.Host)) return "webhook_url must name a host";
        if (uri.UserInfo.Length > 0) return "webhook_url must not contain a user name or password; use headers for credentials";
        if (allowPrivateNetworks) return null;

        IPAddress[] addresses;
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 && IPAddress.TryParse(uri.DnsSafeHost, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
            }
            catch (SocketException)
            {
                addresses = [];
            }
        }

        if (addresses.Length == 0) return $"webhook_url host '{uri.Host}' does not resolve";
        return addresses.FirstOrDefault(IsForbidden) is { } forbidden
            ? $"webhook_url resolves to a private or loopback address ({forbidden}); set Webhooks:AllowPrivateNetworks=true to allow it"
            : null;
    }

    /// <summary>
    /// The dispatcher's handler. Redirects are not followed (a 3xx is a failed attempt, and following one would skip the
    /// URL check); no cookies, no decompression, no proxy (a proxy would resolve the host where this guard cannot
    /// see). Pooled connections are recycled every 2 minutes so DNS changes are picked up, and every new connection
    /// resolves the host itself and drops forbidden addresses before connecting.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(bool allowPrivateNetworks, TimeSpan connectTimeout) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        MaxConnectionsPerServer = 64,
        ConnectTimeout = connectTimeout,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowPrivateNetworks, cancellationToken),
    };

    /// <summary>
    /// Up to <paramref name="maxBytes"/> of a response body as UTF-8 text for the delivery log; the rest is never read,
    /// so a receiver cannot make the dispatcher download a large answer. Send with
    /// <see cref="HttpCompletionOption.ResponseHeadersRead"/> or HttpClient will already have buffered it all. A
    /// character cut in half at the limit is dropped; invalid bytes become U+FFFD.
    /// </summary>
    public static async Task<string> ReadSnippetAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (maxBytes == 0) return "";

        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            var length = 0;
            while (length < maxBytes)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(length, maxBytes - length), cancellationToken);
                if (read == 0) break;
                length += read;
            }

            var decoder = Encoding.UTF8.GetDecoder();
            var chars = new char[decoder.GetCharCount(buffer, 0, length, flush: length < maxBytes)];
            var written = decoder.GetChars(buffer, 0, length, chars, 0, flush: length < maxBytes);
            // PostgreSQL text cannot hold NUL: one receiver answering it would make its attempt unrecordable.
            return new string(chars, 0, written).Replace('\0', '\uFFFD');
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        var host = endPoint.Host.StartsWith('[') && endPoint.Host.EndsWith(']') ? endPoint.Host[1..^1] : endPoint.Host;
        var resolved = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (resolved.Length == 0) throw new HttpRequestException(HttpRequestError.NameResolutionError, $"{host} does not resolve");
        var addresses = allowPrivateNetworks ? resolved : resolved.Where(a => !IsForbidden(a)).ToArray();
        if (addresses.Length == 0)
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"refused to connect to {host}: it resolves to a private or loopback address");

        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }
}
