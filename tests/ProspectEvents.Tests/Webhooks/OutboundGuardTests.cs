using System.Net;
using ProspectEvents.Server.Webhooks;

namespace ProspectEvents.Tests.Webhooks;

public sealed class OutboundGuardTests
{
    private const string Loopback127 = "webhook_url resolves to a private or loopback address (127.0.0.1); set Webhooks:AllowPrivateNetworks=true to allow it";

    [Theory]
    // Loopback and unspecified.
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.254")]
    [InlineData("::1")]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("::")]
    // Private, carrier-grade NAT, link-local.
    [InlineData("10.0.0.1")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.255")]
    [InlineData("169.254.0.1")]
    [InlineData("fe80::1")]
    [InlineData("fe80::1%2")]
    [InlineData("febf::1")]
    [InlineData("fc00::1")]
    [InlineData("fdff::1")]
    // Cloud metadata endpoints.
    [InlineData("169.254.169.254")]
    [InlineData("fd00:ec2::254")]
    [InlineData("100.100.100.200")]
    // Multicast, broadcast, reserved, documentation.
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("ff02::1")]
    [InlineData("255.255.255.255")]
    [InlineData("240.0.0.1")]
    [InlineData("192.0.2.1")]
    [InlineData("2001:db8::1")]
    // IPv6 spellings of forbidden IPv4 addresses: mapped, compatible, NAT64, 6to4.
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:10.1.2.3")]
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("64:ff9b:1::1")]
    [InlineData("2002:7f00:1::")]
    [InlineData("2002:a9fe:a9fe::1")]
    [InlineData("2002:c0a8:101::1")]
    public void AnInternalAddressIsForbidden(string address) => Assert.True(OutboundGuard.IsForbidden(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("11.0.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("169.255.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("223.255.255.254")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:93.184.216.34")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:5db8:d822::1")]
    public void APublicAddressIsAllowed(string address) => Assert.False(OutboundGuard.IsForbidden(IPAddress.Parse(address)));

    [Theory]
    [InlineData("ftp://example.com/hooks")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/hooks")]
    [InlineData("hooks")]
    [InlineData("example.com/hooks")]
    public async Task AUrlThatIsNotAbsoluteHttpIsRefused(string url) =>
        Assert.Equal("webhook_url must be an absolute http or https URL", await OutboundGuard.CheckUrlAsync(url, allowPrivateNetworks: true, CancellationToken.None));

    [Theory]
    [InlineData(" https://example.com/hooks")]
    [InlineData("https://example.com/hooks ")]
    [InlineData("https://example.com/my hooks")]
    [InlineData("https://example.com/hooks\t")]
    [InlineData("https://example.com/\u00a0hooks")]
    [InlineData("https://example.com/hooks\u2028")]
    [InlineData("https://exa\u0000mple.com/hooks")]
    public async Task AUrlWithSpacesOrControlCharactersIsRefused(string url) =>
        Assert.Equal("webhook_url must not contain spaces or control characters; percent-encode them",
            await OutboundGuard.CheckUrlAsync(url, allowPrivateNetworks: true, CancellationToken.None));

    [Fact]
    public async Task AUrlCarryingCredentialsIsRefused() =>
        Assert.Equal("webhook_url must not contain a user name or password; use headers for credentials",
            await OutboundGuard.CheckUrlAsync("https://user:secret@93.184.216.34/hooks", allowPrivateNetworks: true, CancellationToken.None));

    [Fact]
    public async Task ALoopbackLiteralIsRefusedWithTheSettingToChange() =>
        Assert.Equal(Loopback127, await OutboundGuard.CheckUrlAsync("http://127.0.0.1:8080/hooks", allowPrivateNetworks: false, CancellationToken.None));

    [Fact]
    public async Task LocalhostIsRefusedAfterResolvingIt()
    {
        var error = await OutboundGuard.CheckUrlAsync("http://localhost:8080/hooks", allowPrivateNetworks: false, CancellationToken.None);
        Assert.StartsWith("webhook_url resolves to a private or loopback address (", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://[::1]/hooks")]
    [InlineData("http://[::ffff:127.0.0.1]/hooks")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://2130706433/hooks")]
    [InlineData("http://0x7f.0.0.1/hooks")]
    public async Task OtherSpellingsOfInternalAddressesAreRefused(string url) =>
        Assert.Contains("private or loopback", await OutboundGuard.CheckUrlAsync(url, allowPrivateNetworks: false, CancellationToken.None), StringComparison.Ordinal);

    [Theory]
    [InlineData("http://127.0.0.1:8080/hooks")]
    [InlineData("http://localhost:8080/hooks")]
    public async Task InternalAddressesAreAcceptedWhenPrivateNetworksAreAllowed(string url) =>
        Assert.Null(await OutboundGuard.CheckUrlAsync(url, allowPrivateNetworks: true, CancellationToken.None));

    [Theory]
    [InlineData("https://93.184.216.34/hooks")]
    [InlineData("http://93.184.216.34:8443/hooks?token=1")]
    [InlineData("https://[2606:4700:4700::1111]/hooks")]
    public async Task APublicIpLiteralIsAcceptedWithoutDns(string url) =>
        Assert.Null(await OutboundGuard.CheckUrlAsync(url, allowPrivateNetworks: false, CancellationToken.None));

    [Fact]
    public async Task AHostThatDoesNotResolveIsRefused() =>
        Assert.Equal("webhook_url host 'nothing.invalid' does not resolve",
            await OutboundGuard.CheckUrlAsync("https://nothing.invalid/hooks", allowPrivateNetworks: false, CancellationToken.None));
}
