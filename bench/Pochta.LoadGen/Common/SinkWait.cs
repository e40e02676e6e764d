using System.Buffers.Text;

namespace Pochta.LoadGen.Common;

/// <summary>
/// Messages received by Postfix's <c>smtp-sink -c</c> processes (one per remote domain), read
/// from their counter output: each completed DATA rewrites <c>sess=N quit=N mesg=N\r</c>, so
/// the last <c>mesg=</c> of each file is that sink's count. Summed over the files.
/// </summary>
internal sealed class SinkWait(IReadOnlyList<string> counterFiles) : DeliveryWait
{
    public override async Task<long> CountAsync(CancellationToken ct)
    {
        long total = 0;
        var tail = new byte[256];
        foreach (var file in counterFiles)
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
            long length = stream.Length;
            if (length == 0)
            {
                continue;
            }

            int want = (int)Math.Min(tail.Length, length);
            stream.Position = length - want;
            int read = 0;
            while (read < want)
            {
                int n = await stream.ReadAsync(tail.AsMemory(read, want - read), ct);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            total += LastCount(tail.AsSpan(0, read));
        }

        return total;
    }

    /// <summary>The number after the last complete "mesg=" (terminated by CR).</summary>
    internal static long LastCount(ReadOnlySpan<byte> tail)
    {
        int end = tail.LastIndexOf((byte)'\r');
        while (end >= 0)
        {
            var record = tail[..end];
            int at = record.LastIndexOf("mesg="u8);
            if (at >= 0 && Utf8Parser.TryParse(record[(at + 5)..], out long n, out int used) && at + 5 + used == end)
            {
                return n;
            }

            end = record.LastIndexOf((byte)'\r');
        }

        return 0;
    }
}