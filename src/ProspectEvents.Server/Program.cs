using ProspectEvents.Server.Cli;

return await Verbs.RunAsync(args, Console.Out, Console.Error);
