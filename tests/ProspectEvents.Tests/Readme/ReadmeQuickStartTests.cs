using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ProspectEvents.Server.Cli;

namespace ProspectEvents.Tests.Readme;

/// <summary>The README's quick start, run from its own text with bash in a clean copy of the repository.</summary>
public sealed partial class ReadmeQuickStartTests
{
    private const string Section = "## Quick start: see a signed event arrive";

    [Fact]
    public async Task TheQuickStartFromTheReadmeDeliversEveryPlantedEventToListenWithValidSignatures()
    {
        var root = RepositoryFiles.Root();
        var script = Script(await File.ReadAllTextAsync(Path.Combine(root, "README.md")));
        Assert.Contains("demo", script);
        Assert.Contains("listen", script);
        var clone = Path.Combine(Path.GetTempPath(), "prospect-events-quickstart", Guid.NewGuid().ToString("N"));
        await RepositoryFiles.CopyTrackedAsync(root, ".", clone);
        // Free ports instead of the README's, so the test runs beside anything else on this machine.
        script = script.Replace("5080", $"{RepositoryFiles.FreePort()}", StringComparison.Ordinal)
            .Replace("5099", $"{RepositoryFiles.FreePort()}", StringComparison.Ordinal);
        // The steps leave the server and listen running; `wait` keeps bash (their parent) alive until the test ends it.
        script += "\nwait\n";

        var start = ProcessRunner.CreateStartInfo("bash", ["-e", "-c", script], clone, new Dictionary<string, string?> { ["NO_COLOR"] = null }, redirectStandardInput: false);
        using var bash = Process.Start(start)!;
        var printed = new StringBuilder();
        bash.OutputDataReceived += (_, e) => { lock (printed) printed.AppendLine(e.Data); };
        bash.ErrorDataReceived += (_, e) => { lock (printed) printed.AppendLine(e.Data); };
        bash.BeginOutputReadLine();
        bash.BeginErrorReadLine();
        var planted = DemoFeed.Create(20, 1, DateOnly.FromDateTime(DateTime.UtcNow)).Planted;
        var expected = string.Create(CultureInfo.InvariantCulture, $"\"event_name\":\"{planted[0].EventName}\""); // step 5's `demo --expected`
        try
        {
            var clock = Stopwatch.StartNew();
            string[] deliveries = [];
            while (clock.Elapsed < TimeSpan.FromMinutes(8))
            {
                string text;
                lock (printed) text = printed.ToString();
                Assert.False(bash.HasExited, $"The quick start stopped with exit code {(bash.HasExited ? bash.ExitCode : 0)}:\n{text}");
                deliveries = [.. DeliveryPattern().Matches(text).Select(m => m.Value)];
                if (text.Contains(expected, StringComparison.Ordinal)
                    && planted.All(p => deliveries.Any(d => d.Contains(p.EventName, StringComparison.Ordinal) && d.Contains(p.ProspectId, StringComparison.Ordinal))))
                    break;
                await Task.Delay(1000);
            }

            string all;
            lock (printed) all = printed.ToString();
            foreach (var p in planted)
                Assert.True(deliveries.Any(d => d.Contains(p.EventName, StringComparison.Ordinal) && d.Contains(p.ProspectId, StringComparison.Ordinal) && d.EndsWith("anchor ok  standard ok  200", StringComparison.Ordinal)),
                    $"listen printed no valid delivery of {p.EventName} for {p.ProspectId}:\n{all}");
            await Task.Delay(1000); // a delivery for a reworded profile would show by now
            lock (printed) all = printed.ToString();
            Assert.Equal(planted.Count, DeliveryPattern().Matches(all).Count);
            Assert.DoesNotContain("\e[", all); // redirected output has no colour
            Assert.Contains(expected, all);
        }
        finally
        {
            bash.Kill(entireProcessTree: true);
            await bash.WaitForExitAsync();
            try { Directory.Delete(clone, recursive: true); } catch (IOException) { } // best effort
        }
    }

    /// <summary>The <c>sh</c> blocks of the quick start section, in order, as one script.</summary>
    private static string Script(string readme)
    {
        var at = readme.IndexOf(Section, StringComparison.Ordinal);
        Assert.True(at >= 0, $"The README has no section '{Section}'");
        var end = readme.IndexOf("\n## ", at + Section.Length, StringComparison.Ordinal);
        var section = readme[at..(end < 0 ? readme.Length : end)];
        var blocks = ShellBlock().Matches(section).Select(m => m.Groups[1].Value).ToList();
        Assert.True(blocks.Count >= 5, $"The quick start has {blocks.Count} sh blocks, not its five steps");
        return string.Join('\n', blocks);
    }

    [GeneratedRegex(@"^```sh\n(.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex ShellBlock();

    /// <summary>One line <c>listen</c> printed for a delivery.</summary>
    [GeneratedRegex(@"^\d\d:\d\d:\d\d  prospect_\S+ +[0-9a-f]{40}  .*$", RegexOptions.Multiline)]
    private static partial Regex DeliveryPattern();
}
