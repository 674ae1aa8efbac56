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
    public static (double User, double Sys) ProcessUserSysSeconds(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The comm field (2) is in parentheses and may contain spaces; fields after ')' are fixed.
            int close = stat.LastIndexOf(')');
            string[] f = stat[(close + 2)..].Split(' ');
            // After ')': f[0] = state (field 3), so utime (field 14) = f[11], stime (field 15) = f[12].
            long utime = long.Parse(f[11], CultureInfo.InvariantCulture);
            long stime = long.Parse(f[12], CultureInfo.InvariantCulture);
            return (utime / TicksPerSecond, stime / TicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (double.NaN, double.NaN);
        }
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
