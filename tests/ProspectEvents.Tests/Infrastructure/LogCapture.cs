using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace ProspectEvents.Tests.Infrastructure;

/// <summary>One log entry the server wrote, with the correlation id of the request it was written for, if any.</summary>
public sealed record CapturedLog(DateTimeOffset At, LogLevel Level, string Category, EventId EventId, string Message, Exception? Exception, string? CorrelationId)
{
    public override string ToString()
    {
        var exception = Exception is null ? "" : $" — {Exception.GetType().FullName}: {Exception.Message}";
        var at = Exception?.StackTrace?.Split('\n', StringSplitOptions.TrimEntries).FirstOrDefault(line => line.StartsWith("at ProspectEvents", StringComparison.Ordinal))
            ?? Exception?.StackTrace?.Split('\n', StringSplitOptions.TrimEntries).FirstOrDefault();
        return $"{Level} {Category}[{EventId.Id}]: {Message}{exception}{(at is null ? "" : $" ({at})")}";
    }
}

/// <summary>
/// An <see cref="ILoggerProvider"/> that keeps what the server logs, so a test can assert that no request made it log
/// an error. Wire it in with <c>ServerUnderTest.StartAsync(backend, settings, b =&gt; b.Logging.AddProvider(capture))</c>;
/// the server's own filter (<c>Logging:LogLevel</c>, Warning in tests) still applies. Each entry carries the
/// <c>CorrelationId</c> of the logging scope it was written in, i.e. the request's <c>X-Correlation-ID</c>.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    /// <summary>Entries below this level are not kept.</summary>
    public LogLevel MinimumLevel { get; init; } = LogLevel.Warning;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Takes every entry written since the last call.</summary>
    public IReadOnlyList<CapturedLog> Drain()
    {
        var taken = new List<CapturedLog>();
        while (_entries.TryDequeue(out var entry)) taken.Add(entry);
        return taken;
    }

    public void Dispose()
    {
    }

    private string? CorrelationId()
    {
        var found = new StrongBox<string?>();
        _scopes.ForEachScope(static (scope, box) =>
        {
            if (scope is IEnumerable<KeyValuePair<string, object>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    if (key == "CorrelationId" && value is string id) box.Value = id;
                }
            }
        }, found);
        return found.Value;
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= owner.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            owner._entries.Enqueue(new CapturedLog(DateTimeOffset.UtcNow, logLevel, category, eventId, formatter(state, exception), exception, owner.CorrelationId()));
        }
    }
}
