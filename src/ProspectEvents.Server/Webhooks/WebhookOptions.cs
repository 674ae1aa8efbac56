namespace ProspectEvents.Server.Webhooks;

/// <summary>The <c>Webhooks</c> section (docs/webhooks.md).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// When each attempt is made: the first item after detection, each next one after the previous attempt failed.
    /// The delivery is <c>failed</c> once every item has been used.
    /// </summary>
    public string RetrySchedule { get; set; } = Webhooks.RetrySchedule.Default.ToString();

    /// <summary>How long a receiver has to answer; anything else than a 2xx within it is a failure.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Whether webhook URLs may resolve to loopback, private, link-local or metadata addresses.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>A webhook whose every attempt has failed for this long is disabled.</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>
    /// After a v2 <c>rotate_secret</c>, how long the previous secret still signs beside the new one (in
    /// <c>webhook-signature</c>), so receivers can switch without rejecting a delivery. Zero replaces it at once.
    /// </summary>
    public TimeSpan RotationOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Requests a dispatcher has in flight at most, over all webhooks.</summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>The parsed <see cref="RetrySchedule"/> (validated on start).</summary>
    public RetrySchedule Schedule => Webhooks.RetrySchedule.TryParse(RetrySchedule, out var schedule, out var problem)
        ? schedule!
        : throw new InvalidOperationException($"Webhooks:RetrySchedule '{RetrySchedule}' cannot be used: {problem}");

    /// <summary>
    /// How long a claim holds a delivery: twice the timeout, so an attempt in flight (which gives up at the timeout)
    /// is recorded before anyone else may claim the delivery; a dispatcher that died releases it then.
    /// </summary>
    public TimeSpan Lease => Timeout * 2;
}
