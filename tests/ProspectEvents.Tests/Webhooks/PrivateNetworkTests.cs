using ProspectEvents.Tests.Infrastructure;
using static ProspectEvents.Tests.Infrastructure.HttpJson;

namespace ProspectEvents.Tests.Webhooks;

/// <summary>With the default Webhooks:AllowPrivateNetworks=false, webhook URLs must not lead into private networks.</summary>
public sealed class PrivateNetworkTests : IAsyncLifetime
{
    private ServerUnderTest _server = null!;

    public async Task InitializeAsync() => _server = await ServerUnderTest.StartAsync(Backend.Sqlite, new Dictionary<string, string?> { ["Roles"] = "api" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[fd00::1]/hook")]
    public async Task AUrlResolvingToAPrivateAddressIsRefused(string url)
    {
        var (partner, client) = await _server.NewPartnerAsync();

        var error = await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"{{url}}"}""")).ExpectAsync(422);

        var problem = Assert.Single(error.GetProperty("detail").EnumerateArray());
        Assert.Equal("webhook_url", problem.GetProperty("loc")[1].GetString());
        Assert.Contains("AllowPrivateNetworks", problem.GetProperty("msg").GetString());
        await (await client.GetAsync($"/v1/webhooks/{partner}")).ExpectAsync(404);
    }

    [Fact]
    public async Task APublicAddressIsAccepted()
    {
        var (partner, client) = await _server.NewPartnerAsync();
        await (await client.PostJsonAsync("/v1/webhooks", $$"""{"partner_id":"{{partner}}","webhook_url":"https://93.184.216.34/hook"}""")).ExpectAsync(200);
    }
}
