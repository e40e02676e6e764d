using System.Globalization;

namespace Pochta.LoadGen.Common;

/// <summary>
/// Resident memory of a server: a process and all its descendants (Postfix's master and its
/// smtpd children, Dovecot's master and its imap/pop3 processes, Pochta's single process).
/// RSS counts shared pages once per process; PSS shares them out, so PSS is the fair total
/// for multi-process servers. Read from /proc (Linux only).
/// </summary>
internal static class ProcessMemory
{
    public sealed record Reading(int Processes, long RssKb, long PssKb);

    public static Reading Measure(int rootPid)
    {
        var pids = Descendants(rootPid);
        long rss = 0, pss = 0;
        foreach (var pid in pids)
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
                {
                    if (line.StartsWith("Rss:", StringComparison.Ordinal))
                    {
                        rss += ParseKb(line);
                    }
                    else if (line.StartsWith("Pss:", StringComparison.Ordinal))
                    {
                        pss += ParseKb(line);
                    }
                }
            }
            catch (IOException)
            {
                // The process exited between listing and reading.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return new Reading(pids.Count, rss, pss);
    }

    private static long ParseKb(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    private static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var after = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                int ppid = int.Parse(after[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(ppid, out var list))
                {
                    children[ppid] = list = [];
                }

                list.Add(pid);
            }
            catch (IOException)
            {
            }
        }

        var result = new List<int>();
        var stack = new Stack<int>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            int pid = stack.Pop();
            result.Add(pid);
            if (children.TryGetValue(pid, out var list))
            {
                list.ForEach(stack.Push);
            }
        }

        return result;
    }
}