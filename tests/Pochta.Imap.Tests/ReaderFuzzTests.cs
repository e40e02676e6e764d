using System.Text;

using Pochta.Testing;

namespace Pochta.Imap.Tests;

/// <summary>
/// Mutations of the valid commands of <see cref="ReaderTests"/> (bytes flipped, inserted, deleted,
/// tokens spliced in: literals, parentheses, quotes, CR/LF, NUL, 8-bit): the reader never throws,
/// always consumes what it is offered, and gives the same events whole and split at random
/// points. A fixed seed keeps every run identical; a failure prints the input that caused it.
/// </summary>
public class ReaderFuzzTests
{
    private const int Cases = 4000;

    public static TheoryData<bool> States => new() { true, false };

    [Theory]
    [MemberData(nameof(States))]
    public void Mutated_commands_never_throw_and_parse_the_same_at_any_split(bool authenticated)
    {
        var seeds = ReaderTests.ValidInputs.Select(row => Encoding.UTF8.GetBytes((string)row[0])).ToArray();
        var random = new Random(20261201 + (authenticated ? 1 : 0));
        for (var i = 0; i < Cases; i++)
        {
            var input = Mutations.Mutate(seeds[random.Next(seeds.Length)], random, seeds);
            List<string> whole;
            List<string> split;
            try
            {
                whole = ReaderHarness.Run([input], authenticated);
                split = ReaderHarness.Run(Mutations.Chunks(input, random), authenticated);
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name} {e.Message} for input {Mutations.Show(input)}");
                return;
            }

            Assert.True(whole.SequenceEqual(split), $"case {i}: split changed the result for input {Mutations.Show(input)}");
        }
    }

}