namespace ProspectEvents.Bench;

/// <summary>CPU placement: server under test on core 0, load generator on core 1, via taskset.</summary>
internal sealed class Pinning
{
    private Pinning(string? taskset, string description)
    {
        Taskset = taskset;
        Description = description;
    }

    public string? Taskset { get; }

    public string Description { get; }

    public IReadOnlyList<string> LoadGenPrefix => Taskset is null ? [] : ["-c", "1", BenchEnv.FindDotnet()];

    public static Pinning Decide(bool noPin)
    {
        if (noPin)
        {
            return new Pinning(null, "disabled (--no-pin): server and load generator share all cores");
        }

        if (!OperatingSystem.IsLinux())
        {
            return new Pinning(null, "not Linux: running unpinned");
        }

        if (Environment.ProcessorCount < 2)
        {
            return new Pinning(null, $"only {Environment.ProcessorCount} core visible: running unpinned");
        }

        string? taskset = Which("taskset");
        return taskset is null
            ? new Pinning(null, "taskset not found on PATH: running UNPINNED (server and load generator compete for cores)")
            : new Pinning(taskset, $"server under test -> core 0 (`taskset -c 0`), load generator -> core 1 (`taskset -c 1`); {taskset}");
    }

    public string ServerLauncher(string dotnet, out string[] prefix)
    {
        prefix = Taskset is null ? [] : ["-c", "0", dotnet];
        return Taskset ?? dotnet;
    }

    public string LoadGenLauncher(string dotnet) => Taskset ?? dotnet;

    public static string? Which(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
