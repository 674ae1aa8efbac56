using System.Buffers.Text;
using ProspectEvents.Server.Webhooks;

namespace ProspectEvents.Tests.Webhooks;

public sealed class WebhookSecretTests
{
    // 0xFB bytes encode as "+/v7" in standard base64, so both alphabet differences show.
    private static readonly byte[] Key = Enumerable.Repeat((byte)0xFB, 32).ToArray();

    [Fact]
    public void NewSecretsAre32BytesAndNeverRepeat()
    {
        var secrets = Enumerable.Range(0, 100).Select(_ => WebhookSecret.New()).ToList();
        Assert.All(secrets, secret => Assert.Equal(32, secret.Length));
        Assert.Equal(secrets.Count, secrets.Select(Convert.ToHexString).Distinct().Count());
    }

    [Fact]
    public void TheAnchorTextIsBase64UrlWithItsPaddingKept()
    {
        var text = WebhookSecret.ToAnchorText(Key);

        Assert.Equal("-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s=", text);
        Assert.Equal(Key, Base64Url.DecodeFromChars(text));
    }

    [Fact]
    public void TheStandardTextIsWhsecFollowedByStandardBase64()
    {
        var text = WebhookSecret.ToStandardText(Key);

        Assert.StartsWith("whsec_+/v7", text, StringComparison.Ordinal);
        Assert.EndsWith("=", text, StringComparison.Ordinal);
        Assert.Equal(Key, Convert.FromBase64String(text["whsec_".Length..]));
    }

    [Fact]
    public void BothTextsOfANewSecretDecodeToTheSameKey()
    {
        var key = WebhookSecret.New();
        Assert.Equal(Convert.FromBase64String(WebhookSecret.ToStandardText(key)[6..]), Base64Url.DecodeFromChars(WebhookSecret.ToAnchorText(key)));
    }
}
