using System.CommandLine;
using System.Text.Json.Nodes;
using ProspectEvents.Server.Hosting;
using ProspectEvents.Server.Webhooks;
using ProspectEvents.Storage;

namespace ProspectEvents.Server.Cli;

/// <summary>
/// The executable's verbs. All share the server's configuration; arguments a verb does not know
/// (such as <c>--Storage:Provider=postgres</c>) are configuration overrides.
/// </summary>
public static class Verbs
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("ProspectEvents: career-event monitoring with an Explorium-compatible API.")
        {
            Serve(output),
            Migrate(output),
            Partners(output, error),
            Keys(output, error),
            Ingest(output, error),
            AnniversariesVerb(output),
            DemoVerb.Create(output, error),
            ListenVerb.Create(output, error),
        };
        // `serve` is the default verb: no arguments, or only options, mean serve.
        if (args.Length == 0 || (args[0].StartsWith('-') && args[0] is not ("-h" or "--help" or "-?" or "--version")))
            args = ["serve", .. args];
        var parsed = root.Parse(args);
        return InvokeAsync(parsed, output, error, cancellationToken);
    }

    private static async Task<int> InvokeAsync(ParseResult parsed, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (InvalidSettingsException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return CannotStartExit;
        }
        catch (NewerSchemaException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return CannotStartExit;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception e)
        {
            await error.WriteLineAsync($"error: {e}");
            return 1;
        }
    }

    private static Command Serve(TextWriter output)
    {
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on (default {DefaultUrls}, or ASPNETCORE_URLS)." };
        var command = new Command("serve", "Run the HTTP API and the background workers.") { urls };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var app = ServerApp.Build([.. parsed.UnmatchedTokens]);
            Settings.Read(app.Configuration); // before the database is touched
            var listen = parsed.GetValue(urls) ?? app.Configuration["urls"] ?? DefaultUrls;
            app.Urls.Clear();
            foreach (var url in listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) app.Urls.Add(url);
            await app.PrepareAsync(output, cancellationToken);
            await app.RunAsync();
            return 0;
        });
        return command;
    }

    private static Command Migrate(TextWriter output)
    {
        var command = new Command("migrate", "Create or upgrade the database schema.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parsed, cancellationToken) =>
        {
            await using var store = OpenStore(ReadSettings(parsed));
            var applied = await store.MigrateAsync(TimeProvider.System, cancellationToken);
            await output.WriteLineAsync(new JsonObject { ["provider"] = store.Provider, ["applied"] = new JsonArray([.. applied.Select(a => JsonValue.Create(a))]) }.ToJsonString());
            return 0;
        });
        return command;
    }

    private static Command Partners(TextWriter output, TextWriter error)
    {
        var name = new Argument<string>("name") { Description = "A name for the partner (for operators; need not be unique)." };
        var scope = ScopeOption();
        var create = new Command("create", "Create a partner and its first API key; prints {\"partner_id\",\"api_key\"}.") { name, scope };
        create.TreatUnmatchedTokensAsErrors = false;
        create.SetAction(async (parsed, cancellationToken) =>
        {
            await using var store = await OpenMigratedStoreAsync(ReadSettings(parsed), cancellationToken);
            ApiKey.TryParseScope(parsed.GetValue(scope), out var keyScope);
            var key = await store.CreatePartnerAsync(parsed.GetValue(name)!, keyScope, TimeProvider.System.GetUtcNow(), cancellationToken);
            await output.WriteLineAsync(new JsonObject { ["partner_id"] = key.PartnerId, ["api_key"] = key.Secret }.ToJsonString());
            return 0;
        });
        return new Command("partners", "Manage partners.") { create };
    }

    private static Command Keys(TextWriter output, TextWriter error)
    {
        var partner = new Option<string>("--partner") { Description = "The partner the key belongs to.", Required = true };
        var scope = ScopeOption();
        var create = new Command("create", "Issue an API key; prints {\"key_id\",\"api_key\",\"scope\"}.") { partner, scope };
        create.TreatUnmatchedTokensAsErrors = false;
        create.SetAction(async (parsed, cancellationToken) =>
        {
            await using var store = await OpenMigratedStoreAsync(ReadSettings(parsed), cancellationToken);
            ApiKey.TryParseScope(parsed.GetValue(scope), out var keyScope);
            var key = await store.CreateKeyAsync(parsed.GetValue(partner)!, keyScope, TimeProvider.System.GetUtcNow(), cancellationToken);
            if (key is null)
            {
                await error.WriteLineAsync($"No partner '{parsed.GetValue(partner)}'.");
                return 1;
            }
            await output.WriteLineAsync(new JsonObject { ["key_id"] = key.KeyId, ["api_key"] = key.Secret, ["scope"] = ApiKey.ScopeName(key.Scope) }.ToJsonString());
            return 0;
        });

        var keyId = new Argument<string>("key-id") { Description = "The key_id printed when the key was created." };
        var revoke = new Command("revoke", "Revoke a key; it stops working at once.") { keyId };
        revoke.TreatUnmatchedTokensAsErrors = false;
        revoke.SetAction(async (parsed, cancellationToken) =>
        {
            await using var store = await OpenMigratedStoreAsync(ReadSettings(parsed), cancellationToken);
            if (!await store.RevokeKeyAsync(parsed.GetValue(keyId)!, TimeProvider.System.GetUtcNow(), cancellationToken))
            {
                await error.WriteLineAsync($"No live key '{parsed.GetValue(keyId)}'.");
                return 1;
            }
            await output.WriteLineAsync(new JsonObject { ["key_id"] = parsed.GetValue(keyId), ["revoked"] = true }.ToJsonString());
            return 0;
        });
        return new Command("keys", "Manage API keys.") { create, revoke };
    }

    /// <summary>Exit codes of <c>ingest</c> besides 0; 1 is also System.CommandLine's for a usage error.</summary>
    public const int NothingReadExit = 1, CannotStartExit = 2, InputBrokeExit = 3;

    private static Command Ingest(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "NDJSON or CSV observations, optionally gzipped; - reads standard input." };
        var command = new Command("ingest", "Detect events in profile observations; progress on stderr, a JSON summary on stdout. "
            + $"Exits {NothingReadExit} when every line was rejected, {CannotStartExit} when it cannot start (no such file, a bad setting), "
            + $"{InputBrokeExit} when the input broke off (a truncated or corrupt gzip stream, a read error).") { file };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var path = parsed.GetValue(file)!;
            if (path != "-" && !File.Exists(path))
            {
                await error.WriteLineAsync($"No such file: {path}");
                return CannotStartExit;
            }
            var settings = ReadSettings(parsed);
            await using var store = await OpenMigratedStoreAsync(settings, cancellationToken);
            // Unbuffered: the ingest reads in large blocks of its own.
            await using var input = path == "-" ? Console.OpenStandardInput() : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            var run = new Ingest.IngestRun(new Ingest.IngestEngine(store), TimeProvider.System)
            {
                MaxLineBytes = settings.Ingest.MaxLineBytes,
                Progress = p => error.Write($"\r{p.Observations + p.Rejected:N0} rows, {(p.Observations + p.Rejected) / Math.Max(p.Seconds, 0.001):N0}/s, {p.Events:N0} events, {p.Rejected:N0} rejected   "),
            };
            var startedAt = TimeProvider.System.GetUtcNow();
            var summary = await run.RunAsync(input, cancellationToken);
            await error.WriteLineAsync();
            await Server.Ingest.IngestRunLog.RecordAsync(store, Server.Ingest.IngestRunLog.Cli, startedAt, summary, TimeProvider.System,
                e => error.WriteLine($"warning: the ingest is committed, but recording it for the operator page failed: {e.Message}"));
            foreach (var rejected in summary.RejectedLines.Take(20)) await error.WriteLineAsync($"line {rejected.Line}: {rejected.Error}");
            if (summary.Rejected > 20) await error.WriteLineAsync($"... and {summary.Rejected - 20} more rejected lines");
            // One line, then the counts of what was taken before the break (its batches are committed) on stdout.
            if (summary.Error is not null) await error.WriteLineAsync($"error: {summary.Error}; the ingest stopped there, with the {summary.Observations} observations before it taken (re-ingesting the whole input is safe)");
            var printed = new JsonObject
            {
                ["observations"] = summary.Observations, ["rejected"] = summary.Rejected, ["stale"] = summary.Stale,
                ["events"] = summary.Events, ["seconds"] = summary.Seconds,
            };
            if (summary.Error is not null)
            {
                printed["error"] = summary.Error;
                printed["error_line"] = summary.ErrorLine;
            }
            await output.WriteLineAsync(printed.ToJsonString());
            if (summary.Error is not null) return InputBrokeExit;
            return summary.Observations == 0 && summary.Rejected > 0 ? NothingReadExit : 0;
        });
        return command;
    }

    private static Command AnniversariesVerb(TextWriter output)
    {
        var date = new Option<DateOnly>("--date") { Description = "The day to sweep, YYYY-MM-DD.", Required = true };
        var command = new Command("anniversaries", "Run the job-start anniversary sweep for one day; prints {\"date\",\"events\"}.") { date };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parsed, cancellationToken) =>
        {
            await using var store = await OpenMigratedStoreAsync(ReadSettings(parsed), cancellationToken);
            var day = parsed.GetValue(date);
            var events = await store.SweepAnniversariesAsync(day, TimeProvider.System.GetUtcNow(), cancellationToken);
            await output.WriteLineAsync(new JsonObject { ["date"] = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), ["events"] = events }.ToJsonString());
            return 0;
        });
        return command;
    }

    private static Option<string> ScopeOption()
    {
        var scope = new Option<string>("--scope") { Description = "partner (own resources) or admin (also the operator API).", DefaultValueFactory = _ => "partner" };
        scope.AcceptOnlyFromAmong("partner", "admin");
        return scope;
    }

    /// <summary>The server's configuration: shipped settings, appsettings.json here, the environment, <c>--Section:Key=value</c>.</summary>
    private static IConfigurationRoot Configuration(ParseResult parsed) => new ConfigurationBuilder()
        .AddShippedSettings()
        .AddJsonFile(Path.GetFullPath("appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .AddCommandLine([.. parsed.UnmatchedTokens])
        .Build();

    private static ValidSettings ReadSettings(ParseResult parsed) => Settings.Read(Configuration(parsed));

    private static Store OpenStore(ValidSettings settings) => ServerApp.CreateStore(settings.Storage, settings.Webhooks);

    private static async Task<Store> OpenMigratedStoreAsync(ValidSettings settings, CancellationToken cancellationToken)
    {
        var store = OpenStore(settings);
        await store.MigrateAsync(TimeProvider.System, cancellationToken);
        return store;
    }
}
