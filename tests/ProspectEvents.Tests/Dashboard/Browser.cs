using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace ProspectEvents.Tests.Dashboard;

/// <summary>
/// Debian's headless Chromium driven through its chromedriver (packages chromium and chromium-driver). Missing, it
/// fails the test that needs it: the page is only tested for real.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium", DriverPath = "/usr/bin/chromedriver";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private Browser(ChromeDriver driver) => Driver = driver;

    public ChromeDriver Driver { get; }

    public static Browser Start()
    {
        Assert.True(File.Exists(ChromiumPath) && File.Exists(DriverPath),
            $"The dashboard tests need Debian's chromium and chromium-driver ({ChromiumPath}, {DriverPath}): apt-get install -y chromium chromium-driver");
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,1200",
            "--no-first-run", "--disable-extensions", "--force-device-scale-factor=1");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        return new Browser(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)));
    }

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/> holds, or fails showing the last value and the page's error line.</summary>
    public T WaitFor<T>(Func<T> read, Func<T, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            T value;
            try
            {
                value = read();
            }
            catch (WebDriverException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
                continue;
            }
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Waited in vain for {what}; last read: {value}; page error: '{Text("error")}'");
            Thread.Sleep(50);
        }
    }

    public IWebElement ById(string id) => Driver.FindElement(By.Id(id));

    public string Text(string id) => ById(id).Text;

    public bool Visible(string id) => ById(id).Displayed;

    /// <summary>Types <paramref name="key"/> into the page's key form and submits it, as an operator would.</summary>
    public void OpenWith(Uri dashboard, string key)
    {
        Driver.Navigate().GoToUrl(dashboard);
        var input = ById("key");
        input.SendKeys(key);
        ById("open").Click();
    }

    /// <summary>What the page logged to its console: errors, and any refusal under the Content-Security-Policy.</summary>
    public IReadOnlyList<string> ConsoleLines() => Driver.Manage().Logs.GetLog(LogType.Browser).Select(e => $"{e.Level}: {e.Message}").ToList();

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
    }
}
