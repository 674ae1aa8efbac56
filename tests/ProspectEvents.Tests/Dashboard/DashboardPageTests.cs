using System.Text.Json;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using OpenQA.Selenium;
using ProspectEvents.Tests.Admin;
using ProspectEvents.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProspectEvents.Tests.Dashboard;

/// <summary>
/// The operator page in a real headless Chromium, against a server with real data (<see cref="OperatorScenario"/>):
/// it shows what the admin API reports, replays a failed delivery, refuses a wrong key, and keeps the key to itself.
/// </summary>
public sealed class DashboardPageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly LogCapture _logs = new() { MinimumLevel = LogLevel.Trace };
    private OperatorScenario _scenario = null!;
    private Browser _browser = null!;

    /// <summary>Where the page's screenshot is written, for docs/dashboard.png.</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "dashboard.png");

    public async Task InitializeAsync()
    {
        // Every line the server logs (Warning and up in tests, the failed attempts among them): none may hold the key.
        _scenario = await OperatorScenario.StartAsync(Backend.Sqlite, builder => builder.Logging.AddProvider(_logs));
        _browser = Browser.Start();
    }

    public async Task DisposeAsync()
    {
        _browser?.Dispose();
        await _scenario.DisposeAsync();
    }

    private Uri Dashboard => new(_scenario.Server.Address, "/dashboard");

    private async Task<JsonElement> AdminGetAsync(string path)
    {
        using var admin = _scenario.Admin();
        return await (await admin.GetAsync(path)).ExpectAsync(200);
    }

    private void OpenAndWait()
    {
        _browser.OpenWith(Dashboard, _scenario.Server.AdminKey);
        _browser.WaitFor(() => _browser.Visible("data") ? _browser.Driver.FindElements(By.CssSelector("#events-chart g.day")).Count : 0, n => n > 0, "the page to show its data");
    }

    [Fact]
    public async Task The_page_shows_the_counts_the_admin_api_reports_and_one_chart_point_per_day()
    {
        OpenAndWait();
        var stats = await AdminGetAsync("/v1/admin/stats");
        Assert.Equal(stats.GetProperty("partners").GetInt64().ToString("N0"), _browser.Text("partners"));
        Assert.Equal(stats.GetProperty("enrollments").GetInt64().ToString("N0"), _browser.Text("enrollments"));
        Assert.Equal(stats.GetProperty("monitored_prospects").GetInt64().ToString("N0"), _browser.Text("monitored-prospects"));
        Assert.Equal(stats.GetProperty("events").GetInt64().ToString("N0"), _browser.Text("events"));
        Assert.Equal(OperatorScenario.FailedDeliveries.ToString(), _browser.Text("failed-deliveries-count"));

        var perDay = (await AdminGetAsync("/v1/admin/stats/events_per_day?days=30")).GetProperty("per_day").EnumerateArray().ToList();
        var points = _browser.Driver.FindElements(By.CssSelector("#events-chart g.day"));
        Assert.Equal(perDay.Count, points.Count);
        Assert.Equal(perDay.Select(d => $"{d.GetProperty("date").GetString()}={d.GetProperty("total").GetInt64()}"),
            points.Select(p => $"{p.GetAttribute("data-date")}={p.GetAttribute("data-total")}"));

        var webhookRows = _browser.Driver.FindElements(By.CssSelector("#webhooks tbody tr"));
        Assert.Equal((await AdminGetAsync("/v1/admin/webhooks/health")).GetProperty("webhooks").GetArrayLength(), webhookRows.Count);
        Assert.Contains(webhookRows, r => r.Text.Contains("acme", StringComparison.Ordinal) && r.Text.Contains("legacy v1", StringComparison.Ordinal));
        Assert.Equal(OperatorScenario.FailedDeliveries, _browser.Driver.FindElements(By.CssSelector("#failed-deliveries tbody tr[data-delivery-id]")).Count);
        Assert.Equal(4, _browser.Driver.FindElements(By.CssSelector("#ingests tbody tr")).Count);
        Assert.Equal(3, _browser.Driver.FindElements(By.CssSelector("#latest-events tbody tr")).Count);

        // Nothing was refused under the page's Content-Security-Policy, and nothing failed.
        Assert.DoesNotContain(_browser.ConsoleLines(), line => line.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)
            || line.StartsWith("Severe", StringComparison.OrdinalIgnoreCase));

        // The whole page in one picture, for docs/dashboard.png.
        var height = Convert.ToInt32(_browser.Driver.ExecuteScript("return document.documentElement.scrollHeight"));
        _browser.Driver.Manage().Window.Size = new System.Drawing.Size(1440, height + 140);
        _browser.Driver.GetScreenshot().SaveAsFile(ScreenshotPath);
        output.WriteLine($"Screenshot: {ScreenshotPath}");
    }

    [Fact]
    public async Task Replaying_a_failed_delivery_from_the_page_delivers_it()
    {
        OpenAndWait();
        var failed = (await AdminGetAsync("/v1/admin/deliveries/failed")).GetProperty("deliveries")[0];
        var deliveryId = failed.GetProperty("delivery_id").GetString()!;
        var eventId = failed.GetProperty("event_id").GetString()!;
        _scenario.Failing.Behaviour = (_, _) => ReceiverAnswer.Ok;

        _browser.Driver.FindElement(By.CssSelector($"#failed-deliveries tr[data-delivery-id='{deliveryId}'] button.replay")).Click();

        var received = await _scenario.Failing.WaitForAsync(r => r.Any(x => x.AnsweredStatus == 200 && x.BodyText.Contains(eventId, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20));
        Assert.True(received.Last(x => x.AnsweredStatus == 200).AnchorVerified);
        _browser.WaitFor(() => _browser.Text("notice"), t => t.Contains(deliveryId, StringComparison.Ordinal), "the page to confirm the replay");
        await _scenario.SettleAsync(OperatorScenario.FailedDeliveries - 1);
        // The page's next read (a refresh) no longer lists it.
        _browser.Driver.Navigate().Refresh();
        _browser.WaitFor(() => _browser.Driver.FindElements(By.CssSelector("#failed-deliveries tbody tr[data-delivery-id]")).Count,
            n => n == OperatorScenario.FailedDeliveries - 1, "the replayed delivery to leave the failed list");
        Assert.Empty(_browser.Driver.FindElements(By.CssSelector($"#failed-deliveries tr[data-delivery-id='{deliveryId}']")));
    }

    [Fact]
    public void A_wrong_key_shows_an_error_and_no_data()
    {
        _browser.OpenWith(Dashboard, "pek_" + new string('A', 43));
        var error = _browser.WaitFor(() => _browser.Text("error"), t => t.Length > 0, "the page to show an error");
        Assert.Contains("refused this key (401)", error, StringComparison.Ordinal);
        Assert.False(_browser.Visible("data"));
        Assert.Equal("", _browser.Text("partners"));
        Assert.Empty(_browser.Driver.FindElements(By.CssSelector("#events-chart g.day")));
        Assert.Null(_browser.Driver.ExecuteScript("return sessionStorage.getItem('prospectEvents.adminKey')"));
    }

    [Fact]
    public async Task A_partner_key_is_refused_too()
    {
        var key = await _scenario.Server.Store.CreatePartnerAsync("plain", ProspectEvents.KeyScope.Partner, _scenario.Server.Clock.GetUtcNow(), CancellationToken.None);
        _browser.OpenWith(Dashboard, key.Secret);
        var error = _browser.WaitFor(() => _browser.Text("error"), t => t.Length > 0, "the page to show an error");
        Assert.Contains("(403)", error, StringComparison.Ordinal);
        Assert.False(_browser.Visible("data"));
    }

    [Fact]
    public void The_key_stays_in_session_storage_never_in_a_url_or_a_log_line()
    {
        OpenAndWait();
        var key = _scenario.Server.AdminKey;
        Assert.Equal(key, _browser.Driver.ExecuteScript("return sessionStorage.getItem('prospectEvents.adminKey')"));
        Assert.Null(_browser.Driver.ExecuteScript("return localStorage.getItem('prospectEvents.adminKey')"));
        Assert.DoesNotContain(key, _browser.Driver.Url, StringComparison.Ordinal);
        var urls = (IEnumerable<object>)_browser.Driver.ExecuteScript("return performance.getEntriesByType('resource').map(e => e.name)")!;
        Assert.NotEmpty(urls);
        Assert.All(urls, url => Assert.DoesNotContain(key, (string)url, StringComparison.Ordinal));
        Assert.DoesNotContain("pek_", _browser.Driver.Url, StringComparison.Ordinal);
        Assert.Equal("", _browser.ById("key").GetAttribute("value"));

        var lines = _logs.Drain();
        Assert.NotEmpty(lines);
        Assert.DoesNotContain(lines, l => l.ToString().Contains(key, StringComparison.Ordinal));

        // Forgetting the key clears it and the data.
        _browser.ById("forget").Click();
        Assert.Null(_browser.Driver.ExecuteScript("return sessionStorage.getItem('prospectEvents.adminKey')"));
        Assert.False(_browser.Visible("data"));
    }

    [Fact]
    public async Task The_page_is_served_under_a_strict_content_security_policy_without_inline_script()
    {
        using var anonymous = _scenario.Server.Client(null);
        var response = await anonymous.GetAsync("/dashboard");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.StartsWith("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        var html = await response.Content.ReadAsStringAsync();
        // Every script is a file of this server: no inline code, no other host.
        Assert.DoesNotMatch(@"<script(?![^>]*\bsrc=""/dashboard/)", html);
        Assert.DoesNotMatch(@"(?:https?:)?//[A-Za-z0-9.-]+\.[a-z]", html);
        Assert.DoesNotMatch(@"\son[a-z]+=", html);
        foreach (var asset in new[] { "/dashboard/dashboard.js", "/dashboard/dashboard.css" })
        {
            var file = await anonymous.GetAsync(asset);
            Assert.Equal(200, (int)file.StatusCode);
            Assert.Contains("default-src 'self'", string.Join(";", file.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        }
    }
}
