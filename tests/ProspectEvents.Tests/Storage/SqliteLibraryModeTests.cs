using System.Diagnostics;
using System.Text;

namespace ProspectEvents.Tests.Storage;

/// <summary>
/// The server sets SQLite's threading mode before its first connection (SqliteNative.ConfigureLibrary). Only a
/// process of its own shows it: in this test process other tests open SQLite first, and the mode is then fixed.
/// </summary>
public sealed class SqliteLibraryModeTests
{
    [Fact]
    public async Task TheServerRunsSqliteInMultiThreadMode()
    {
        var directory = Directory.CreateTempSubdirectory("prospect-events-sqlite-mode");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "ProspectEvents.Server.dll"), "serve", "--urls", "http://127.0.0.1:0" })
            start.ArgumentList.Add(arg);
        start.Environment["Storage__Provider"] = "sqlite";
        start.Environment["Storage__ConnectionString"] = $"Data Source={Path.Combine(directory.FullName, "events.db")}";
        start.Environment["Logging__LogLevel__ProspectEvents.Storage"] = "Debug";
        var printed = new StringBuilder();
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var server = Process.Start(start)!;
        DataReceivedEventHandler read = (_, e) =>
        {
            if (e.Data is null) return;
            lock (printed) printed.AppendLine(e.Data);
            if (e.Data.Contains("SQLite 3.", StringComparison.Ordinal)) found.TrySetResult(e.Data);
        };
        server.OutputDataReceived += read;
        server.ErrorDataReceived += read;
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            var line = await found.Task.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.EndsWith("in multi-thread mode", line.Trim());
        }
        catch (TimeoutException)
        {
            lock (printed) Assert.Fail($"The server logged no SQLite mode:\n{printed}");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            directory.Delete(recursive: true);
        }
    }
}
