using System.Globalization;

namespace ProspectEvents.Bench;

/// <summary>Linux /proc readers: per-process CPU time, per-core busy/steal, affinity, peak RSS.</summary>
internal static class ProcStats
{
    // USER_HZ is 100 on every mainstream Linux build; /proc reports times in these ticks.
    private const double TicksPerSecond = 100.0;

    /// <summary>utime + stime of a process in seconds, or NaN when unavailable.</summary>
    public static double ProcessCpuSeconds(int pid)
    {
        var (user, sys) = ProcessUserSysSeconds(pid);
        return user + sys;
    }

    /// <summary>(utime, stime) of a process in seconds, or NaN when unavailable.</summary>
    public static (double User, double Sys) ProcessUserSysSeconds(int pid) =>
        ReadTimes(pid) is { } t ? (t.UTime / TicksPerSecond, t.STime / TicksPerSecond) : (double.NaN, double.NaN);

    /// <summary>Parent pid and CPU ticks (own and reaped children's) from <c>/proc/&lt;pid&gt;/stat</c>; null when the process is gone.</summary>
    private static (int PPid, long UTime, long STime, long CUTime, long CSTime)? ReadTimes(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The comm field (2) is in parentheses and may contain spaces; fields after ')' are fixed.
            int close = stat.LastIndexOf(')');
            string[] f = stat[(close + 2)..].Split(' ');
            // After ')': f[0] = state (field 3); ppid = field 4 = f[1]; utime..cstime = fields 14..17 = f[11..14].
            return (int.Parse(f[1], CultureInfo.InvariantCulture),
                long.Parse(f[11], CultureInfo.InvariantCulture), long.Parse(f[12], CultureInfo.InvariantCulture),
                long.Parse(f[13], CultureInfo.InvariantCulture), long.Parse(f[14], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>
    /// CPU seconds (user, sys) used so far by a process and its family: itself, its live children and the children it
    /// has already reaped (cutime/cstime). For PostgreSQL: the postmaster, backends, checkpointer, WAL writer, ...
    /// </summary>
    public static (double User, double Sys) ProcessTreeCpuSeconds(int parent)
    {
        if (ReadTimes(parent) is not { } own)
        {
            return (double.NaN, double.NaN);
        }

        long user = own.UTime + own.CUTime, sys = own.STime + own.CSTime;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid != parent
                && ReadTimes(pid) is { } child && child.PPid == parent)
            {
                user += child.UTime;
                sys += child.STime;
            }
        }

        return (user / TicksPerSecond, sys / TicksPerSecond);
    }

    /// <summary>Per-core jiffy counters from /proc/stat: (busy, steal, total) per cpuN line.</summary>
    public static (long Busy, long Steal, long Total)[] CoreTicks()
    {
        var result = new List<(long, long, long)>();
        try
        {
            foreach (string line in File.ReadLines("/proc/stat"))
            {
                if (!line.StartsWith("cpu", StringComparison.Ordinal) || line.StartsWith("cpu ", StringComparison.Ordinal))
                {
                    continue;
                }

                // cpuN user nice system idle iowait irq softirq steal guest guest_nice
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                long[] v = f.Skip(1).Take(8).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                long idle = v[3] + v[4];
                long steal = v.Length > 7 ? v[7] : 0;
                long total = v.Sum();
                result.Add((total - idle - steal, steal, total));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // Leave empty: reported as "n/a".
        }

        return [.. result];
    }

    /// <summary>Per core, the busy and steal share (%) of the time between two <see cref="CoreTicks"/> readings.</summary>
    public static (double[] Busy, double[] Steal) CorePercent((long Busy, long Steal, long Total)[] before, (long Busy, long Steal, long Total)[] after)
    {
        int n = Math.Min(before.Length, after.Length);
        var busy = new double[n];
        var steal = new double[n];
        for (int i = 0; i < n; i++)
        {
            long total = after[i].Total - before[i].Total;
            busy[i] = total > 0 ? Math.Round(100.0 * (after[i].Busy - before[i].Busy) / total, 1) : double.NaN;
            steal[i] = total > 0 ? Math.Round(100.0 * (after[i].Steal - before[i].Steal) / total, 1) : double.NaN;
        }

        return (busy, steal);
    }

    public static string? AffinityList(int pid) => StatusField(pid, "Cpus_allowed_list:");

    public static long PeakRssKb(int pid) => StatusKb(pid, "VmHWM:") ?? 0;

    /// <summary>A kB field of <c>/proc/&lt;pid&gt;/status</c> such as <c>VmRSS:</c>; null when the process is gone.</summary>
    public static long? StatusKb(int pid, string prefix)
    {
        string? v = StatusField(pid, prefix);
        if (v is null)
        {
            return null;
        }

        string digits = new(v.TakeWhile(char.IsAsciiDigit).ToArray());
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long kb) ? kb : 0;
    }

    private static string? StatusField(int pid, string prefix)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line[prefix.Length..].Trim();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Process gone or /proc unavailable.
        }

        return null;
    }
}
