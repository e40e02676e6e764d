using System.Text;

using Pochta.Testing;

namespace Pochta.Pop3.Tests.Protocol;

/// <summary>Mutations of <see cref="ReaderTests.Valid"/>: the reader never throws, consumes all it
/// is offered while waiting for more (ReaderHarness asserts it), and reads the same commands and
/// errors whether the bytes come at once, in random pieces, or one byte per segment.</summary>
public class ReaderFuzzTests
{
    private const int Cases = 5000;

    [Fact]
    public void Mutated_commands_never_throw_and_read_the_same_at_any_split()
    {
        var seeds = ((IEnumerable<object[]>)ReaderTests.Valid).Select(row => Encoding.UTF8.GetBytes((string)row[0])).ToArray();
        var random = new Random(20261205);
        for (var i = 0; i < Cases; i++)
        {
            var input = Mutations.Mutate(seeds[random.Next(seeds.Length)], random, seeds);
            try
            {
                var whole = ReaderHarness.Run([input]);
                Assert.True(whole.SequenceEqual(ReaderHarness.Run(Mutations.Chunks(input, random))), $"case {i}: split changed the result for input {Mutations.Show(input)}");
                Assert.True(whole.SequenceEqual(ReaderHarness.Run([input], multiSegment: true)), $"case {i}: segments changed the result for input {Mutations.Show(input)}");
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"case {i}: {e.GetType().Name} {e.Message} for input {Mutations.Show(input)}");
            }
        }
    }
}