namespace ProspectEvents.Tests.Domain;

public sealed class ApiKeyTests
{
    [Fact]
    public void KeysArePekFollowedBy43Base64UrlCharactersAndNeverRepeat()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ApiKey.Generate()).ToList();
        Assert.All(keys, key => Assert.Matches("^pek_[A-Za-z0-9_-]{43}$", key));
        Assert.All(keys, key => Assert.True(ApiKey.HasValidShape(key)));
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void OnlyTheMatchingKeyMatchesAStoredHash()
    {
        var key = ApiKey.Generate();
        var hash = ApiKey.Hash(key);
        Assert.Equal(32, hash.Length);
        Assert.True(ApiKey.Matches(ApiKey.Hash(key), hash));
        Assert.False(ApiKey.Matches(ApiKey.Hash(ApiKey.Generate()), hash));
    }

    [Theory]
    [InlineData("")]
    [InlineData("pek_short")]
    [InlineData("sk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("pek_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!")]
    public void TextThatIsNotShapedLikeAKeyIsRejectedBeforeAnyLookup(string text) => Assert.False(ApiKey.HasValidShape(text));
}
