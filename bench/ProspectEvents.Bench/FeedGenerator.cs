using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace ProspectEvents.Bench;

/// <summary>One snapshot file of a generated feed and what was planted in it.</summary>
internal sealed record FeedFile
{
    public required int Snapshot { get; init; }
    public required string File { get; init; }
    public required string ObservedDate { get; init; }
    public required long Lines { get; init; }
    public required long Bytes { get; init; }
    public required long FileBytes { get; init; }
    public required int PlantedCompanyChanges { get; init; }
    public required int PlantedRoleChanges { get; init; }

    /// <summary>Drawn as a change but not planted, because the state the detector holds could not show it (see <see cref="FeedGenerator"/>).</summary>
    public required int ChangesNotPlantable { get; init; }

    /// <summary>Extra copies of lines of the same snapshot (same observed_at): each one is stale.</summary>
    public required int Duplicates { get; init; }

    public int ExpectedEvents => PlantedCompanyChanges + PlantedRoleChanges;
}

internal sealed record FeedManifest
{
    public required string GeneratorVersion { get; init; }
    public required int Prospects { get; init; }
    public required int Snapshots { get; init; }
    public required ulong Seed { get; init; }
    public required bool Gzip { get; init; }
    public required double ChangeRate { get; init; }
    public required double DuplicateRate { get; init; }
    public required int Companies { get; init; }
    public required int CompaniesWithId { get; init; }
    public required int CompaniesWithDomain { get; init; }
    public required double AverageLineBytes { get; init; }
    public required double GenerationSeconds { get; init; }
    public required List<FeedFile> Files { get; init; }
}

/// <summary>
/// Writes a synthetic, deterministic (per seed) NDJSON observation feed: one file per snapshot, a month apart,
/// lines of a snapshot in random order. About 2 % of prospects really change per snapshot (60 % company moves,
/// 40 % role changes); on top of that every line carries cosmetic noise that must not produce events:
/// company name variants ("Acme" / "Acme, Inc." / "ACME"), domain variants ("www.", scheme, path, case),
/// upper-case company ids, title variants ("Sr. Software Eng." / "Senior Software Engineer",
/// "VP Sales" / "Vice President, Sales"), and fields that are missing, null or empty now and then.
/// A few lines per snapshot are exact duplicates (stale by definition).
/// <para>
/// The generator runs a model of the detector's employer/title knowledge per prospect (which identity kinds,
/// company id / domain / name, and whether a title is known), following docs/detection.md. A change is only
/// planted when that model says the detector can see it (the state and the change line share an identity kind,
/// and for a role change a title is known); otherwise it is counted as not plantable and the prospect does not
/// change. So the planted counts are exactly the events a correct detector finds, and the cosmetic noise
/// should add none.
/// </para>
/// </summary>
internal static class FeedGenerator
{
    public const string Version = "v1";
    public const double ChangeRate = 0.02;
    public const double CompanyShareOfChanges = 0.6;
    public const double DuplicateRate = 0.002;
    public const string ManifestName = "feed.json";
    public const string PlantedName = "planted.tsv";

    // Field numbers for noise (prospect_id and observed_at are always present).
    private const int FName = 0, FTitle = 1, FDept = 2, FSeniority = 3, FCompanyId = 4, FCompanyName = 5, FDomain = 6, FStart = 7, FLinkedin = 8;
    private const int FieldCount = 9;

    // Per field: how often a line does not know it (missing key, null or ""), before any change protection.
    private static readonly double[] DropRate = [0.01, 0.015, 0.05, 0.05, 0.03, 0.02, 0.03, 0.03, 0.03];

    // A line that carries a planted change always has its employer and title (otherwise the change is not visible).
    private const uint ProtectedOnChange = (1u << FTitle) | (1u << FCompanyId) | (1u << FCompanyName) | (1u << FDomain);

    // Model of the detector state: which identity kinds it knows for the current employer, and whether a title is known.
    private const byte KId = 1, KDomain = 2, KName = 4, KEmployer = KId | KDomain | KName, KTitle = 8;

    private static readonly DateOnly FirstSnapshot = new(2026, 1, 1);

    public static string DefaultDirectory(string resultsDir, int prospects, int snapshots, ulong seed, bool gzip) =>
        Path.Combine(resultsDir, "feeds", $"p{prospects}-s{snapshots}-seed{seed}-{Version}{(gzip ? "-gz" : "")}");

    public static string FileName(int snapshot, bool gzip) => $"snapshot-{snapshot}.ndjson{(gzip ? ".gz" : "")}";

    /// <summary>The `generate-feed` verb.</summary>
    public static int Run(FeedOptions o)
    {
        string dir = o.Out is not null
            ? Path.GetFullPath(o.Out)
            : DefaultDirectory(Path.Combine(BenchEnv.FindRepoRoot(), "bench", "results"), o.Prospects, o.Snapshots, o.Seed, o.Gzip);
        var manifest = Generate(dir, o.Prospects, o.Snapshots, o.Seed, o.Gzip, Console.WriteLine);
        PrintPlanted(manifest, dir);
        return 0;
    }

    public static void PrintPlanted(FeedManifest m, string dir)
    {
        Console.WriteLine($"feed    : {dir}");
        Console.WriteLine($"          {m.Prospects:N0} prospects, {m.Companies:N0} companies ({m.CompaniesWithId:N0} with company_id, {m.CompaniesWithDomain:N0} with a domain), " +
            $"avg line {m.AverageLineBytes:F0} B, seed {m.Seed}, generated in {m.GenerationSeconds:F1}s");
        Console.WriteLine("          | file | observed | lines | MB | planted company | planted role | expected events | duplicates (= expected stale) | changes not plantable |");
        foreach (var f in m.Files)
        {
            Console.WriteLine($"          | {f.File} | {f.ObservedDate} | {f.Lines:N0} | {f.Bytes / 1e6:F0} | {f.PlantedCompanyChanges:N0} | {f.PlantedRoleChanges:N0} | {f.ExpectedEvents:N0} | {f.Duplicates:N0} | {f.ChangesNotPlantable:N0} |");
        }
    }

    public static FeedManifest? TryLoad(string dir)
    {
        string path = Path.Combine(dir, ManifestName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var m = JsonSerializer.Deserialize(File.ReadAllText(path), IngestJsonContext.Default.FeedManifest);
            return m is not null && m.GeneratorVersion == Version && m.Files.All(f => File.Exists(Path.Combine(dir, f.File))) ? m : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static FeedManifest Generate(string dir, int prospects, int snapshots, ulong seed, bool gzip, Action<string> log)
    {
        Directory.CreateDirectory(dir);
        File.Delete(Path.Combine(dir, ManifestName)); // the manifest is written last: its presence means "complete"
        var total = Stopwatch.StartNew();
        var world = new World(prospects, seed);
        var files = new List<FeedFile>();
        using (var planted = new StreamWriter(Path.Combine(dir, PlantedName), append: false, new UTF8Encoding(false)))
        {
            planted.WriteLine("snapshot\tprospect_id\tkind");
            for (int k = 1; k <= snapshots; k++)
            {
                var sw = Stopwatch.StartNew();
                var file = world.WriteSnapshot(dir, k, gzip, planted);
                files.Add(file);
                log($"generate: {file.File}: {file.Lines:N0} lines, {file.Bytes / 1e6:F0} MB in {sw.Elapsed.TotalSeconds:F1}s " +
                    $"(planted {file.PlantedCompanyChanges:N0} company + {file.PlantedRoleChanges:N0} role changes, {file.Duplicates:N0} duplicates)");
            }
        }

        var manifest = new FeedManifest
        {
            GeneratorVersion = Version,
            Prospects = prospects,
            Snapshots = snapshots,
            Seed = seed,
            Gzip = gzip,
            ChangeRate = ChangeRate,
            DuplicateRate = DuplicateRate,
            Companies = world.Companies.Length,
            CompaniesWithId = world.Companies.Count(c => c.Id is not null),
            CompaniesWithDomain = world.Companies.Count(c => c.Domains is not null),
            AverageLineBytes = files.Sum(f => (double)f.Bytes) / Math.Max(1, files.Sum(f => f.Lines)),
            GenerationSeconds = Math.Round(total.Elapsed.TotalSeconds, 2),
            Files = files,
        };
        File.WriteAllText(Path.Combine(dir, ManifestName), JsonSerializer.Serialize(manifest, IngestJsonContext.Default.FeedManifest));
        return manifest;
    }

    /// <summary>Snapshot k's nominal date: a month after snapshot k-1.</summary>
    public static DateOnly SnapshotDate(int k) => FirstSnapshot.AddMonths(k - 1);

    private sealed class Company
    {
        public required byte[][] Names { get; init; }
        public byte[][]? Domains { get; init; }
        public byte[]? Id { get; init; }
        public byte[]? IdUpper { get; init; }
    }

    private sealed record TitleGroup(string Department, string Seniority, string[] Variants);

    /// <summary>How one line shows its prospect: which fields it does not know, and which cosmetic variants it uses.</summary>
    private struct Row
    {
        public uint Drop;
        public uint Mode; // 2 bits per field: 0 = key missing, 1 = null, 2 = ""
        public int TitleVariant;
        public int NameVariant;
        public int DomainVariant;
        public bool UpperId;
        public int Second;

        public readonly bool Has(int field) => (Drop & (1u << field)) == 0;

        public readonly int DropMode(int field) => (int)((Mode >> (2 * field)) & 3);
    }

    private sealed class World
    {
        private readonly int _n;
        private readonly ulong _seed;
        private readonly byte[] _prospectHex; // 40 ASCII hex per prospect
        private readonly int[] _company;
        private readonly byte[] _title;
        private readonly int[] _startDay; // DateOnly.DayNumber
        private readonly byte[] _state; // model of what the detector knows (K* bits)
        private readonly byte[] _change; // 0 none, 1 company, 2 role in the current snapshot
        private readonly byte[][] _titleBytes;
        private readonly byte[][] _deptBytes;
        private readonly byte[][] _seniorityBytes;
        private readonly byte[][] _firstNames;
        private readonly byte[][] _lastNames;
        private readonly byte[][] _firstSlugs;
        private readonly byte[][] _lastSlugs;

        public World(int prospects, ulong seed)
        {
            _n = prospects;
            _seed = seed;
            Companies = BuildCompanies(Math.Clamp(prospects / 20, 200, 60_000), seed);
            _titleBytes = [.. Titles.SelectMany(t => t.Variants).Select(Encoding.UTF8.GetBytes)];
            _deptBytes = [.. Titles.Select(t => Encoding.UTF8.GetBytes(t.Department))];
            _seniorityBytes = [.. Titles.Select(t => Encoding.UTF8.GetBytes(t.Seniority))];
            _firstNames = [.. FirstNames.Select(f => Encoding.UTF8.GetBytes(f.Name))];
            _firstSlugs = [.. FirstNames.Select(f => Encoding.UTF8.GetBytes(f.Slug))];
            _lastNames = [.. LastNames.Select(l => Encoding.UTF8.GetBytes(l.Name))];
            _lastSlugs = [.. LastNames.Select(l => Encoding.UTF8.GetBytes(l.Slug))];

            _prospectHex = new byte[prospects * 40];
            _company = new int[prospects];
            _title = new byte[prospects];
            _startDay = new int[prospects];
            _state = new byte[prospects];
            _change = new byte[prospects];

            var rng = new SplitMix(SplitMix.Mix(seed, 0, 0x9E0_1D));
            Span<byte> id = stackalloc byte[20];
            var seen = new HashSet<ulong>();
            int earliest = new DateOnly(2005, 1, 1).DayNumber;
            int latest = FirstSnapshot.AddDays(-30).DayNumber;
            for (int i = 0; i < prospects; i++)
            {
                do
                {
                    for (int j = 0; j < 20; j += 8)
                    {
                        ulong v = rng.Next();
                        for (int b = 0; b < 8 && j + b < 20; b++)
                        {
                            id[j + b] = (byte)(v >> (8 * b));
                        }
                    }
                }
                while (!seen.Add(BitConverter.ToUInt64(id)));

                Hex(id, _prospectHex.AsSpan(i * 40, 40));
                _company[i] = PickCompany(ref rng);
                _title[i] = (byte)rng.Next(Titles.Length);
                _startDay[i] = earliest + rng.Next(latest - earliest);
            }
        }

        public Company[] Companies { get; }

        private int PickCompany(ref SplitMix rng)
        {
            // Skewed: a few big employers, a long tail of small ones.
            double u = rng.NextDouble();
            return Math.Min(Companies.Length - 1, (int)(Companies.Length * u * u));
        }

        private int TitleIndex(int group, int variant)
        {
            int offset = 0;
            for (int g = 0; g < group; g++)
            {
                offset += Titles[g].Variants.Length;
            }

            return offset + Variant(variant, Titles[group].Variants.Length);
        }

        private static int Variant(int v, int count) => v == 0 || count == 1 ? 0 : 1 + ((v - 1) % (count - 1));

        private ulong RowSeed(int k, int i) => SplitMix.Mix(_seed, (ulong)k, (ulong)i + 1);

        private static Row Noise(ulong rowSeed, bool change)
        {
            var r = new SplitMix(rowSeed);
            var row = new Row();
            for (int f = 0; f < FieldCount; f++)
            {
                double u = r.NextDouble();
                uint mode = (uint)r.Next(3);
                if (u < DropRate[f] && !(change && (ProtectedOnChange & (1u << f)) != 0))
                {
                    row.Drop |= 1u << f;
                    row.Mode |= mode << (2 * f);
                }
            }

            row.TitleVariant = r.NextDouble() < 0.6 ? 0 : 1 + r.Next(12);
            row.NameVariant = r.NextDouble() < 0.6 ? 0 : 1 + r.Next(12);
            row.DomainVariant = r.NextDouble() < 0.75 ? 0 : 1 + r.Next(12);
            row.UpperId = r.NextDouble() < 0.02;
            row.Second = r.Next(86_400);
            return row;
        }

        /// <summary>Identity kinds a line shows for its employer.</summary>
        private byte Shows(int company, in Row row)
        {
            var c = Companies[company];
            byte k = 0;
            if (c.Id is not null && row.Has(FCompanyId))
            {
                k |= KId;
            }

            if (c.Domains is not null && row.Has(FDomain))
            {
                k |= KDomain;
            }

            if (row.Has(FCompanyName))
            {
                k |= KName;
            }

            return k;
        }

        public FeedFile WriteSnapshot(string dir, int k, bool gzip, StreamWriter planted)
        {
            int plantedCompany = 0, plantedRole = 0, notPlantable = 0;
            var g = new SplitMix(SplitMix.Mix(_seed, (ulong)k, 0xC4A46E));
            int today = SnapshotDate(k).DayNumber;
            int previous = k > 1 ? SnapshotDate(k - 1).DayNumber : today;

            // 1. Decide this snapshot's truth per prospect, and advance the model of the detector's state.
            for (int i = 0; i < _n; i++)
            {
                byte kind = 0;
                if (k > 1 && g.NextDouble() < ChangeRate)
                {
                    bool company = g.NextDouble() < CompanyShareOfChanges;
                    var row = Noise(RowSeed(k, i), change: true);
                    byte known = (byte)(_state[i] & KEmployer);
                    if (company)
                    {
                        int to;
                        do
                        {
                            to = PickCompany(ref g);
                        }
                        while (to == _company[i]);

                        int newTitle = g.NextDouble() < 0.5 ? _title[i] : g.Next(Titles.Length);
                        int start = previous + 1 + g.Next(today - previous);
                        if (known != 0 && (known & Shows(to, row)) != 0)
                        {
                            _company[i] = to;
                            _title[i] = (byte)newTitle;
                            _startDay[i] = start;
                            kind = 1;
                        }
                    }
                    else
                    {
                        int newTitle = (_title[i] + 1 + g.Next(Titles.Length - 1)) % Titles.Length;
                        bool newStart = g.NextDouble() < 0.5;
                        int start = previous + 1 + g.Next(today - previous);
                        if (known != 0 && (known & Shows(_company[i], row)) != 0 && (_state[i] & KTitle) != 0)
                        {
                            _title[i] = (byte)newTitle;
                            if (newStart)
                            {
                                _startDay[i] = start;
                            }

                            kind = 2;
                        }
                    }

                    if (kind == 0)
                    {
                        notPlantable++;
                    }
                }

                _change[i] = kind;
                if (kind == 1)
                {
                    plantedCompany++;
                }
                else if (kind == 2)
                {
                    plantedRole++;
                }

                if (kind != 0)
                {
                    planted.Write(k.ToString(CultureInfo.InvariantCulture));
                    planted.Write('\t');
                    planted.Write(Encoding.ASCII.GetString(_prospectHex, i * 40, 40));
                    planted.WriteLine(kind == 1 ? "\tcompany" : "\trole");
                }

                // The detector's view after this line (docs/detection.md): first sight is a baseline; an employer
                // seen for the first time is a baseline; a company change replaces the job fields; the same employer
                // fills in what the line knows; an employer that cannot be compared changes nothing.
                var shown = Noise(RowSeed(k, i), kind != 0);
                byte emp = Shows(_company[i], shown);
                byte title = shown.Has(FTitle) ? KTitle : (byte)0;
                byte st = _state[i];
                if (k == 1)
                {
                    st = (byte)(emp | title);
                }
                else if ((st & KEmployer) == 0)
                {
                    if (emp != 0)
                    {
                        st = (byte)(emp | title | (st & KTitle));
                    }
                }
                else if ((st & emp) != 0)
                {
                    st = kind == 1 ? (byte)(emp | title) : (byte)(st | emp | title);
                }

                _state[i] = st;
            }

            // 2. Line order: every prospect once plus a few exact duplicates, shuffled.
            int duplicates = (int)Math.Round(_n * DuplicateRate);
            var order = new int[_n + duplicates];
            for (int i = 0; i < _n; i++)
            {
                order[i] = i;
            }

            for (int d = 0; d < duplicates; d++)
            {
                order[_n + d] = g.Next(_n);
            }

            var shuffle = new SplitMix(SplitMix.Mix(_seed, (ulong)k, 0x5EED));
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = shuffle.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }

            // 3. Write.
            string name = FileName(k, gzip);
            string path = Path.Combine(dir, name);
            long bytes = 0;
            using (var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Stream output = gzip ? new GZipStream(fs, CompressionLevel.Fastest, leaveOpen: true) : fs;
                var buffer = new byte[1 << 20];
                int pos = 0;
                byte[] observedDate = Encoding.ASCII.GetBytes(SnapshotDate(k).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                foreach (int i in order)
                {
                    if (pos > buffer.Length - 4096)
                    {
                        output.Write(buffer, 0, pos);
                        bytes += pos;
                        pos = 0;
                    }

                    pos += WriteLine(buffer.AsSpan(pos), i, k, observedDate);
                }

                output.Write(buffer, 0, pos);
                bytes += pos;
                if (gzip)
                {
                    output.Dispose();
                }
            }

            return new FeedFile
            {
                Snapshot = k,
                File = name,
                ObservedDate = SnapshotDate(k).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                Lines = order.Length,
                Bytes = bytes,
                FileBytes = new FileInfo(path).Length,
                PlantedCompanyChanges = plantedCompany,
                PlantedRoleChanges = plantedRole,
                ChangesNotPlantable = notPlantable,
                Duplicates = duplicates,
            };
        }

        private int WriteLine(Span<byte> b, int i, int k, byte[] observedDate)
        {
            var row = Noise(RowSeed(k, i), _change[i] != 0);
            ulong person = SplitMix.Mix(_seed, 0xFACE, (ulong)i);
            var c = Companies[_company[i]];
            int group = _title[i];
            var w = new Writer(b);

            w.Raw("{\"prospect_id\":\""u8);
            w.Raw(_prospectHex.AsSpan(i * 40, 40));
            w.Raw("\",\"observed_at\":\""u8);
            w.Raw(observedDate);
            w.Byte((byte)'T');
            w.Two(row.Second / 3600);
            w.Byte((byte)':');
            w.Two(row.Second / 60 % 60);
            w.Byte((byte)':');
            w.Two(row.Second % 60);
            w.Raw("Z\""u8);

            if (Field(ref w, row, FName, ",\"full_name\":"u8))
            {
                w.Raw(_firstNames[(int)(person % (ulong)_firstNames.Length)]);
                if ((person >> 20) % 8 == 0)
                {
                    w.Byte((byte)' ');
                    w.Byte((byte)('A' + (int)((person >> 24) % 26)));
                    w.Byte((byte)'.');
                }

                w.Byte((byte)' ');
                w.Raw(_lastNames[(int)((person >> 32) % (ulong)_lastNames.Length)]);
                w.Byte((byte)'"');
            }

            if (Field(ref w, row, FTitle, ",\"job_title\":"u8))
            {
                w.Raw(_titleBytes[TitleIndex(group, row.TitleVariant)]);
                w.Byte((byte)'"');
            }

            if (Field(ref w, row, FDept, ",\"job_department\":"u8))
            {
                w.Raw(_deptBytes[group]);
                w.Byte((byte)'"');
            }

            if (Field(ref w, row, FSeniority, ",\"job_seniority_level\":"u8))
            {
                w.Raw(_seniorityBytes[group]);
                w.Byte((byte)'"');
            }

            if (c.Id is not null && Field(ref w, row, FCompanyId, ",\"company_id\":"u8))
            {
                w.Raw(row.UpperId ? c.IdUpper! : c.Id);
                w.Byte((byte)'"');
            }

            if (Field(ref w, row, FCompanyName, ",\"company_name\":"u8))
            {
                w.Raw(c.Names[Variant(row.NameVariant, c.Names.Length)]);
                w.Byte((byte)'"');
            }

            if (c.Domains is not null && Field(ref w, row, FDomain, ",\"company_domain\":"u8))
            {
                w.Raw(c.Domains[Variant(row.DomainVariant, c.Domains.Length)]);
                w.Byte((byte)'"');
            }

            if (Field(ref w, row, FStart, ",\"job_start_date\":"u8))
            {
                var d = DateOnly.FromDayNumber(_startDay[i]);
                w.Four(d.Year);
                w.Byte((byte)'-');
                w.Two(d.Month);
                if ((person >> 48) % 10 != 0)
                {
                    // ~10 % of prospects only ever give the month.
                    w.Byte((byte)'-');
                    w.Two(d.Day);
                }

                w.Byte((byte)'"');
            }

            if (Field(ref w, row, FLinkedin, ",\"linkedin_url\":"u8))
            {
                w.Raw("https://www.linkedin.com/in/"u8);
                w.Raw(_firstSlugs[(int)(person % (ulong)_firstSlugs.Length)]);
                w.Byte((byte)'-');
                w.Raw(_lastSlugs[(int)((person >> 32) % (ulong)_lastSlugs.Length)]);
                if ((person >> 4) % 10 < 4)
                {
                    // Taken vanity names get a suffix.
                    w.Byte((byte)'-');
                    w.HexDigits(person >> 8, 6);
                }

                w.Byte((byte)'"');
            }

            w.Raw("}\n"u8);
            return w.Position;
        }

        /// <summary>Writes the key; true when the caller must write the value (the opening quote is written).</summary>
        private static bool Field(ref Writer w, in Row row, int field, ReadOnlySpan<byte> key)
        {
            if (row.Has(field))
            {
                w.Raw(key);
                w.Byte((byte)'"');
                return true;
            }

            switch (row.DropMode(field))
            {
                case 1:
                    w.Raw(key);
                    w.Raw("null"u8);
                    break;
                case 2:
                    w.Raw(key);
                    w.Raw("\"\""u8);
                    break;
                default:
                    break; // key missing
            }

            return false;
        }
    }

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _b = buffer;

        public int Position { get; private set; }

        public void Raw(ReadOnlySpan<byte> s)
        {
            s.CopyTo(_b[Position..]);
            Position += s.Length;
        }

        public void Byte(byte c) => _b[Position++] = c;

        public void Two(int v)
        {
            _b[Position++] = (byte)('0' + (v / 10));
            _b[Position++] = (byte)('0' + (v % 10));
        }

        public void Four(int v)
        {
            Two(v / 100);
            Two(v % 100);
        }

        public void HexDigits(ulong v, int digits)
        {
            for (int d = digits - 1; d >= 0; d--)
            {
                _b[Position++] = HexChars[(int)((v >> (4 * d)) & 0xF)];
            }
        }
    }

    private static ReadOnlySpan<byte> HexChars => "0123456789abcdef"u8;

    private static void Hex(ReadOnlySpan<byte> bytes, Span<byte> dest)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            dest[2 * i] = HexChars[bytes[i] >> 4];
            dest[(2 * i) + 1] = HexChars[bytes[i] & 0xF];
        }
    }

    // ---- vocabulary -------------------------------------------------------------------------------------------

    private static Company[] BuildCompanies(int count, ulong seed)
    {
        var rng = new SplitMix(SplitMix.Mix(seed, 0xC0, 0x11));
        var companies = new Company[count];
        var names = new HashSet<string>(StringComparer.Ordinal);
        var domains = new HashSet<string>(StringComparer.Ordinal);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        int plain = 0, ampersand = 0;
        for (int c = 0; c < count; c++)
        {
            string baseName, andName, slug;
            if (c % 10 == 9)
            {
                // "Baker & Hale Partners": also written "Baker and Hale Partners".
                // A bijective shuffle of the index space, so that consecutive companies differ in every word.
                int space = Surnames.Length * Surnames.Length * Sectors.Length;
                int j = (int)((ampersand++ * 7919L) % space);
                string s1 = Surnames[j % Surnames.Length];
                string s2 = Surnames[(j / Surnames.Length + 1 + (j % Surnames.Length)) % Surnames.Length];
                string sector = Sectors[j / (Surnames.Length * Surnames.Length) % Sectors.Length];
                baseName = $"{s1} & {s2}{Spaced(sector)}";
                andName = $"{s1} and {s2}{Spaced(sector)}";
                slug = (s1 + s2 + sector).ToLowerInvariant();
            }
            else
            {
                // "Bluestone", "Bluestone Labs": a compound word and, mostly, a short sector word.
                int space = Adjectives.Length * Nouns.Length * Sectors.Length;
                int j = (int)((plain++ * 7919L) % space);
                string a = Adjectives[j % Adjectives.Length];
                string n = Nouns[j / Adjectives.Length % Nouns.Length];
                string sector = Sectors[j / (Adjectives.Length * Nouns.Length) % Sectors.Length];
                baseName = $"{a}{n.ToLowerInvariant()}{Spaced(sector)}";
                andName = baseName;
                slug = (a + n + sector).ToLowerInvariant();
            }

            // Unique by construction for up to 60,000 companies; the sets guard the invariant the expected event
            // counts rely on: two different companies never share a normalized name, a domain or an id.
            string key = baseName.ToLowerInvariant().Replace("&", "and", StringComparison.Ordinal);
            if (!names.Add(key))
            {
                baseName += " " + c.ToString(CultureInfo.InvariantCulture);
                andName += " " + c.ToString(CultureInfo.InvariantCulture);
                names.Add(baseName.ToLowerInvariant().Replace("&", "and", StringComparison.Ordinal));
            }

            string form = LegalForms[rng.Next(LegalForms.Length)];
            var nameVariants = new List<string> { form.Length == 0 ? baseName : $"{baseName} {form}" };
            if (form.Length > 0)
            {
                nameVariants.Add($"{baseName}, {form}.");
                nameVariants.Add(baseName);
                nameVariants.Add($"{baseName.ToUpperInvariant()} {form.ToUpperInvariant()}");
                if (form == "LLC")
                {
                    nameVariants.Add($"{baseName}, L.L.C.");
                }
            }

            nameVariants.Add(baseName.ToUpperInvariant());
            if (andName != baseName)
            {
                nameVariants.Add(andName);
            }

            byte[][]? domainVariants = null;
            if (rng.NextDouble() < 0.92)
            {
                string tld = Tlds[rng.Next(Tlds.Length)];
                string domain = slug + tld;
                if (!domains.Add(domain))
                {
                    domain = slug + c.ToString(CultureInfo.InvariantCulture) + tld;
                    domains.Add(domain);
                }

                domainVariants =
                [
                    .. new[]
                    {
                        domain, "www." + domain, $"https://www.{domain}/", $"http://{domain}", domain.ToUpperInvariant(),
                        $"https://{domain}/about", "www." + domain + "/",
                    }.Select(Encoding.UTF8.GetBytes),
                ];
            }

            byte[]? id = null, idUpper = null;
            if (rng.NextDouble() < 0.6)
            {
                string hex;
                do
                {
                    hex = $"{rng.Next():x16}{rng.Next():x16}";
                }
                while (!ids.Add(hex));

                id = Encoding.ASCII.GetBytes(hex);
                idUpper = Encoding.ASCII.GetBytes(hex.ToUpperInvariant());
            }

            companies[c] = new Company
            {
                Names = [.. nameVariants.Select(Encoding.UTF8.GetBytes)],
                Domains = domainVariants,
                Id = id,
                IdUpper = idUpper,
            };
        }

        return companies;
    }

    private static readonly string[] LegalForms = ["", "", "Inc", "Inc", "LLC", "Ltd", "GmbH", "Corp", "Corporation", "Co", "PLC"];
    private static readonly string[] Tlds = [".com", ".com", ".com", ".io", ".co", ".ai", ".net", ".de", ".co.uk"];

    private static readonly string[] Adjectives =
    [
        "Blue", "Red", "Green", "Silver", "Golden", "Bright", "Northern", "Southern", "Eastern", "Western",
        "Pacific", "Atlantic", "Summit", "Pioneer", "Evergreen", "Granite", "Crystal", "Rapid", "Swift", "Clear",
        "Prime", "Global", "United", "First", "True", "Bold", "Quantum", "Vertex", "Apex", "Nova",
        "Stellar", "Lunar", "Solar", "Iron", "Copper", "Maple", "Cedar", "Oak", "Pine", "Harbor",
        "Coastal", "Alpine", "Prairie", "Canyon", "River", "Lake", "Ocean", "Sky", "Cloud", "Digital",
        "Smart", "Open", "Fair", "Noble", "Royal", "Urban", "Metro", "Civic", "Modern", "Future",
    ];

    private static readonly string[] Nouns =
    [
        "Bridge", "Path", "Stone", "Field", "Point", "Ridge", "Peak", "Wave", "Forge", "Works",
        "Hub", "Gate", "Port", "Line", "Link", "Leaf", "Rock", "Spring", "Valley", "Star",
        "Light", "Fox", "Hawk", "Wolf", "Bear", "Lion", "Falcon", "Arrow", "Anchor", "Beacon",
        "Compass", "Crown", "Key", "Shield", "Tower", "Vista", "Grove", "Mill", "Yard", "Loop",
        "Grid", "Frame", "Core", "Edge", "Scale", "Shift", "Signal", "Pulse", "Spark", "Flow",
        "Wing", "Orbit", "Nest", "Bay", "Creek", "Dune", "Trail", "Root", "Tide", "Ember",
    ];

    // "" = no sector word. None is a legal suffix (those are dropped by the name normalizer).
    private static readonly string[] Sectors =
    [
        "", "Labs", "Health", "Group", "Data", "Bio", "Tech", "Media", "Foods", "Energy",
        "Capital", "Systems", "Robotics", "Partners", "Cloud", "Logic", "Soft", "Pay", "AI", "Ventures",
    ];

    private static string Spaced(string word) => word.Length == 0 ? "" : " " + word;

    private static readonly string[] Surnames =
    [
        "Baker", "Hale", "Morgan", "Reed", "Carter", "Ellis", "Foster", "Grant", "Hayes", "Irwin",
        "Jensen", "Keller", "Lowe", "Mercer", "Nash", "Owens", "Pierce", "Quinn", "Ramsey", "Sutton",
        "Tate", "Vance", "Walsh", "Young", "Abbott", "Barnes", "Cole", "Drake", "Fuller", "Gibbs",
        "Hardy", "Knox", "Lang", "Marsh", "Pratt", "Rowe", "Shaw", "Thorne", "Webb", "Wilde",
    ];

    private static readonly (string Name, string Slug)[] FirstNames =
    [
        ("Dana", "dana"), ("Noa", "noa"), ("Maya", "maya"), ("Liam", "liam"), ("Olivia", "olivia"), ("Emma", "emma"),
        ("Noah", "noah"), ("Ava", "ava"), ("Sophia", "sophia"), ("Isabella", "isabella"), ("Mia", "mia"), ("Lucas", "lucas"),
        ("Ethan", "ethan"), ("James", "james"), ("Amelia", "amelia"), ("Harper", "harper"), ("Evelyn", "evelyn"), ("Daniel", "daniel"),
        ("Michael", "michael"), ("Sarah", "sarah"), ("David", "david"), ("Rachel", "rachel"), ("Yossi", "yossi"), ("Tamar", "tamar"),
        ("José", "jose"), ("Zoë", "zoe"), ("Chloé", "chloe"), ("Søren", "soren"), ("Priya", "priya"), ("Arjun", "arjun"),
        ("Wei", "wei"), ("Mei", "mei"), ("Hiroshi", "hiroshi"), ("Yuki", "yuki"), ("Fatima", "fatima"), ("Omar", "omar"),
        ("Aisha", "aisha"), ("Carlos", "carlos"), ("Lucía", "lucia"), ("Mateo", "mateo"), ("Ingrid", "ingrid"), ("Lars", "lars"),
        ("Anna", "anna"), ("Peter", "peter"), ("Katarzyna", "katarzyna"), ("Tomasz", "tomasz"), ("Elena", "elena"), ("Dmitri", "dmitri"),
        ("Grace", "grace"), ("Henry", "henry"), ("Jack", "jack"), ("Lily", "lily"), ("Oscar", "oscar"), ("Ruby", "ruby"),
        ("Samuel", "samuel"), ("Victoria", "victoria"), ("William", "william"), ("Zara", "zara"), ("Benjamin", "benjamin"), ("Charlotte", "charlotte"),
    ];

    private static readonly (string Name, string Slug)[] LastNames =
    [
        ("Levi", "levi"), ("Cohen", "cohen"), ("Smith", "smith"), ("Johnson", "johnson"), ("Williams", "williams"), ("Brown", "brown"),
        ("Jones", "jones"), ("Garcia", "garcia"), ("Miller", "miller"), ("Davis", "davis"), ("Rodriguez", "rodriguez"), ("Martinez", "martinez"),
        ("Hernández", "hernandez"), ("Lopez", "lopez"), ("Gonzalez", "gonzalez"), ("Wilson", "wilson"), ("Anderson", "anderson"), ("Thomas", "thomas"),
        ("Taylor", "taylor"), ("Moore", "moore"), ("Jackson", "jackson"), ("Martin", "martin"), ("Lee", "lee"), ("Perez", "perez"),
        ("O'Brien", "obrien"), ("O'Neil", "oneil"), ("Müller", "muller"), ("Schmidt", "schmidt"), ("Schneider", "schneider"), ("Fischer", "fischer"),
        ("Weber", "weber"), ("Dubois", "dubois"), ("Lefèvre", "lefevre"), ("Rossi", "rossi"), ("Russo", "russo"), ("Ferrari", "ferrari"),
        ("Nowak", "nowak"), ("Kowalski", "kowalski"), ("Ivanov", "ivanov"), ("Petrov", "petrov"), ("Kim", "kim"), ("Park", "park"),
        ("Nguyen", "nguyen"), ("Tran", "tran"), ("Wang", "wang"), ("Li", "li"), ("Zhang", "zhang"), ("Chen", "chen"),
        ("Sato", "sato"), ("Suzuki", "suzuki"), ("Takahashi", "takahashi"), ("Patel", "patel"), ("Sharma", "sharma"), ("Singh", "singh"),
        ("Khan", "khan"), ("Ali", "ali"), ("Haddad", "haddad"), ("Mizrahi", "mizrahi"), ("Friedman", "friedman"), ("Katz", "katz"),
        ("Van der Berg", "vanderberg"), ("De Jong", "dejong"), ("Andersson", "andersson"), ("Johansson", "johansson"), ("Nielsen", "nielsen"), ("Hansen", "hansen"),
    ];

    // Every variant of a group has the same normal form (docs/detection.md: case, punctuation, spacing, abbreviations);
    // different groups have different normal forms. Variant 0 is the usual spelling.
    private static readonly TitleGroup[] Titles =
    [
        new("engineering", "senior", ["Senior Software Engineer", "Sr. Software Eng.", "Sr Software Engineer", "SENIOR SOFTWARE ENGINEER", "Snr Software Engineer", "Senior  Software Eng"]),
        new("engineering", "entry", ["Software Engineer", "SWE", "Software Eng.", "software engineer"]),
        new("engineering", "manager", ["Engineering Manager", "Engineering Mgr", "Engineering Mgr."]),
        new("engineering", "director", ["Director of Engineering", "Dir. of Engineering", "Director of  Engineering"]),
        new("engineering", "cxo", ["Chief Technology Officer", "CTO", "C.T.O."]),
        new("engineering", "senior", ["Staff Software Engineer", "Staff Software Eng."]),
        new("engineering", "senior", ["Principal Engineer", "Principal Eng."]),
        new("engineering", "entry", ["Software Developer", "Software Dev", "SW Developer"]),
        new("engineering", "entry", ["Junior Developer", "Jr. Developer", "Jr Dev"]),
        new("engineering", "entry", ["QA Engineer", "Quality Assurance Engineer", "QA Eng."]),
        new("sales", "vp", ["VP Sales", "Vice President, Sales", "VP, Sales", "V.P. Sales", "Vice President Sales"]),
        new("sales", "senior", ["Account Executive", "Acct Exec", "Account Exec."]),
        new("sales", "manager", ["Regional Sales Manager", "Regional Sales Mgr", "Regional Sales Mgr."]),
        new("sales", "entry", ["Sales Development Representative", "Sales Development Rep", "Sales Development Rep."]),
        new("sales", "senior", ["Senior Account Manager", "Sr. Account Manager", "Sr Acct Mgr"]),
        new("sales", "director", ["Sales Director", "Sales Dir."]),
        new("sales", "vp", ["EVP Sales", "Executive Vice President, Sales", "Executive VP Sales"]),
        new("marketing", "director", ["Director of Marketing", "Dir. of Marketing", "Director of Mktg"]),
        new("marketing", "manager", ["Marketing Manager", "Mktg Mgr", "Marketing Mgr."]),
        new("marketing", "cxo", ["Chief Marketing Officer", "CMO"]),
        new("marketing", "entry", ["Content Marketing Specialist", "Content Mktg Specialist"]),
        new("human_resources", "manager", ["HR Manager", "Human Resources Manager", "H.R. Manager", "HR Mgr"]),
        new("human_resources", "entry", ["Recruiter", "recruiter", "RECRUITER"]),
        new("operations", "manager", ["Operations Manager", "Ops Manager", "Ops Mgr"]),
        new("operations", "vp", ["SVP Operations", "Senior Vice President, Operations", "SVP, Ops"]),
        new("finance", "cxo", ["Chief Financial Officer", "CFO"]),
        new("finance", "senior", ["Senior Financial Analyst", "Sr. Financial Analyst"]),
        new("finance", "manager", ["Accounting Manager", "Accounting Mgr"]),
        new("customer_success", "manager", ["Customer Success Manager", "Customer Success Mgr", "Customer Success Mgr."]),
        new("product", "manager", ["Product Manager", "Product Mgr"]),
        new("product", "senior", ["Senior Product Manager", "Sr. Product Manager", "Sr Product Mgr"]),
        new("executive", "cxo", ["Chief Executive Officer", "CEO", "C.E.O."]),
        new("executive", "owner", ["Co-Founder & CEO", "Co-founder and CEO", "Co Founder & Chief Executive Officer"]),
        new("administrative", "entry", ["Executive Assistant", "Exec. Assistant", "Exec Asst"]),
        new("administrative", "manager", ["Assistant Manager", "Asst. Manager", "Asst Mgr"]),
        new("research", "senior", ["Research & Development Engineer", "Research and Development Engineer", "Research & Development Eng."]),
        new("data", "senior", ["Data Scientist", "data scientist", "Data  Scientist"]),
        new("information_technology", "director", ["IT Director", "I.T. Director"]),
        new("business_development", "manager", ["International Business Development Manager", "Intl Business Development Manager", "Intl. Business Development Mgr"]),
    ];
}

/// <summary>SplitMix64: small, fast, deterministic.</summary>
internal struct SplitMix(ulong seed)
{
    private ulong _s = seed;

    public static ulong Mix(ulong a, ulong b, ulong c)
    {
        var r = new SplitMix(a ^ (b * 0x9E3779B97F4A7C15UL) ^ (c * 0xC2B2AE3D27D4EB4FUL));
        r.Next();
        return r.Next();
    }

    public ulong Next()
    {
        ulong z = _s += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public int Next(int n) => (int)(((Next() >> 32) * (ulong)n) >> 32);

    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
}
