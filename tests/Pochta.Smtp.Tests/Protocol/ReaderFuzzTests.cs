using System.Buffers;
using System.Text;

using Pochta.Smtp.Protocol;
using Pochta.Testing;

namespace Pochta.Smtp.Tests.Protocol;

/// <summary>Mutations of <see cref="CommandReaderTests.ValidLines"/>: the reader never throws and
/// reads the same commands and errors whether the bytes come at once or in random pieces (the
/// session keeps unread bytes and calls again with more).</summary>
public class ReaderFuzzTests
{
    private const int Cases = 5000;

    [Fact]
    public void Mutated_lines_never_throw_and_read_the_same_at_any_split()
    {
        var seeds = ((IEnumerable<object[]>)CommandReaderTests.ValidLines).Select(row => Encoding.UTF8.GetBytes((string)row[0])).ToArray();
        var random = new Random(20261201);
        for (var i = 0; i < Cases; i++)
        {
            var input = Mutations.Mutate(seeds[random.Next(seeds.Length)], random, seeds);
            try
            {
                var whole = Read([input]);
                var split = Read(Mutations.Chunks(input, random));
                Assert.True(whole.SequenceEqual(split), $"case {i}: split changed the result for input {Mutations.Show(input)}");
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"case {i}: {e.GetType().Name} {e.Message} for input {Mutations.Show(input)}");
            }
        }
    }

    /// <summary>Drives the reader as the session does: unread bytes stay buffered for the next call.</summary>
    private static List<string> Read(IEnumerable<byte[]> chunks)
    {
        var reader = new SmtpCommandReader();
        var events = new List<string>();
        var pending = new List<byte>();
        foreach (var chunk in chunks)
        {
            pending.AddRange(chunk);
            while (true)
            {
                var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>([.. pending]));
                var result = reader.TryRead(ref sequence);
                pending.RemoveRange(0, (int)sequence.Consumed);
                if (result.Status == SmtpReadStatus.NeedMoreData)
                {
                    break;
                }

                events.Add(result.ToString());
            }
        }

        return events;
    }
}