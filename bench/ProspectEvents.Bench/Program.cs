using ProspectEvents.Bench;

// Verb dispatch. `echo-server` and `loadgen` are internal verbs: the `enrollments`
// orchestrator starts them as child processes so each can be pinned to its own core.
// `parse-feed` is the internal parse-only baseline the `ingest` orchestrator starts the same way;
// `webhook-receiver`, `post-bodies` and `feed-observations` are the children of the `deliveries` orchestrator.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Cli.Usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    string verb = args[0];
    string[] rest = args[1..];
    return verb switch
    {
        "enrollments" => await EnrollmentBenchmark.RunAsync(Cli.ParseEnrollmentOptions(rest)),
        "echo-server" => await EchoServer.RunAsync(rest),
        "loadgen" => await LoadGenerator.RunAsync(Cli.ParseLoadOptions(rest)),
        "ingest" => await IngestBenchmark.RunAsync(Cli.ParseIngestOptions(rest)),
        "generate-feed" => FeedGenerator.Run(Cli.ParseFeedOptions(rest)),
        "parse-feed" => FeedParser.Run(Cli.ParseParseFeedOptions(rest)),
        "fetch" => await FetchBenchmark.RunAsync(Cli.ParseFetchOptions(rest)),
        "deliveries" => await DeliveryBenchmark.RunAsync(Cli.ParseDeliveryOptions(rest)),
        "scale" => await ScaleBenchmark.RunAsync(Cli.ParseScaleOptions(rest)),
        "webhook-receiver" => await RunWebhookReceiverAsync(rest),
        "post-bodies" => await BodyPoster.RunAsync(Cli.ParsePostBodiesOptions(rest)),
        "feed-observations" => await ObservationFeeder.RunAsync(Cli.ParseFeedObservationsOptions(rest)),
        _ => Cli.Fail($"unknown verb '{verb}'"),
    };
}
catch (CliException ex)
{
    return Cli.Fail(ex.Message);
}

// The deliveries benchmark's receiver: counts every request per sink and keeps the first 512 whole for the baseline to resend.
static async Task<int> RunWebhookReceiverAsync(string[] args)
{
    string url = args is ["--urls", var u] ? u : throw new CliException("webhook-receiver needs --urls <url>");
    await using var receiver = await WebhookReceiver.StartAsync(new WebhookReceiverOptions { Url = url, KeepPerSink = 512 });
    await receiver.WaitForShutdownAsync();
    return 0;
}
