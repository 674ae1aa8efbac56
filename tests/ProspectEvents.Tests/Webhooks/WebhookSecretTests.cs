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

    [Fact]
    public void EitherTextParsesBackToTheKeyAndGarbageDoesNot()
    {
        var key = WebhookSecret.New();
        var anchor = WebhookSecret.ToAnchorText(key);

        Assert.True(WebhookSecret.TryParse(anchor, out var fromAnchor));
        Assert.Equal(key, fromAnchor);
        Assert.True(WebhookSecret.TryParse(anchor.TrimEnd('='), out var unpadded));
        Assert.Equal(key, unpadded);
        Assert.True(WebhookSecret.TryParse(WebhookSecret.ToStandardText(key), out var fromStandard));
        Assert.Equal(key, fromStandard);
        Assert.False(WebhookSecret.TryParse("whsec_not base64!", out _));
        Assert.False(WebhookSecret.TryParse("", out _));
        Assert.False(WebhookSecret.TryParse(null, out _));
    }
}
