using Microsoft.Extensions.DependencyInjection;

using Pochta.Storage;

using static Pochta.Mime.Tests.TestUtil;

namespace Pochta.Mime.Tests;

public class SerializerTests
{
    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public async Task Round_trip_preserves_every_field(string name)
    {
        var (index, _) = await IndexAsync(Corpus.Get(name));
        var bytes = MessageIndexSerializer.Serialize(index);
        Assert.Equal(MessageIndexSerializer.CurrentVersion, bytes[0]);
        var back = MessageIndexSerializer.Deserialize(bytes);
        Assert.Equal(Dump(index), Dump(back));
        Assert.Equal(bytes, MessageIndexSerializer.Serialize(back));

        var (size, envelope) = MessageIndexSerializer.DeserializeEnvelope(bytes);
        Assert.Equal(index.Size, size);
        Assert.Equal(Addresses(index.Envelope.From), Addresses(envelope.From));
        Assert.Equal(index.Envelope.Subject, envelope.Subject);

        var light = MessageIndexSerializer.Deserialize(bytes, includeBodyText: false);
        Assert.Equal("", light.Search.BodyText);
        Assert.Equal(index.Search.Preview, light.Search.Preview);
    }

    [Fact]
    public async Task Build_index_async_returns_the_serialized_form()
    {
        var raw = Corpus.Bytes(Corpus.Crlf(Corpus.Nested));
        using var services = new ServiceCollection().AddPochtaMime().BuildServiceProvider();
        var indexer = services.GetRequiredService<IMessageIndexer>();
        Assert.IsType<MessageIndexer>(indexer);
        var bytes = await indexer.BuildIndexAsync(new MemoryStream(raw), CancellationToken.None);
        Assert.Equal(Dump(await IndexAsync(raw)), Dump(MessageIndexSerializer.Deserialize(bytes)));
    }

    [Fact]
    public void Hand_built_index_with_every_field_round_trips()
    {
        var addresses = new EnvelopeAddress[]
        {
            EnvelopeAddress.GroupStart("=?utf-8?q?Gr=C3=BCppe?=", "Grüppe"),
            new("=?utf-8?q?A?=", "A", "@r1,@r2", "a", "x.test"),
            new(null, null, null, "b", ""),
            EnvelopeAddress.GroupEnd,
        };
        var envelope = new MessageEnvelope("Thu, 1 Jan 2026 00:00:00 +0530", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.FromMinutes(330)),
            "=?utf-8?q?s?=", "s", addresses, [], null, addresses, addresses, addresses, "<irt@x>", "<id@x>");
        var leaf = new BodyPart(BodyPartKind.Basic, "application", "pdf", [new("name", "ä.pdf")], "<cid>", "desc", "base64", "md5==",
            new BodyDisposition("attachment", [new("filename", "ä.pdf")]), ["en", "fr"], "loc", 100, 150, 1_000_000_000_000, 7, [], null, null);
        var nested = new BodyPart(BodyPartKind.Basic, "text", "plain", [new("charset", "us-ascii")], null, null, null, null, null, [], null, 300, 320, 400, 3, [], null, null);
        var message = new BodyPart(BodyPartKind.Message, "message", "rfc822", [], null, null, null, null, null, null, null, 200, 300, 400, 9, [], envelope, nested);
        var root = new BodyPart(BodyPartKind.Multipart, "multipart", "mixed", [new("boundary", "b")], null, null, null, null, null, null, null, 0, 50, 1_000_000_000_100, 0, [leaf, message], null, null);
        var index = new MessageIndex(1_000_000_000_100, envelope, root, new ThreadingData("id@x", ["a@x", "b@x"], ["irt@x"]),
            new SearchData("s", envelope.ParsedDate, [new("Subject", "s"), new("X-Empty", "")], "text \u0000 with nul and 日本", "text", true));
        var bytes = MessageIndexSerializer.Serialize(index);
        var back = MessageIndexSerializer.Deserialize(bytes);
        Assert.Equal(Dump(index), Dump(back));
        Assert.Equal(TimeSpan.FromMinutes(330), back.Envelope.ParsedDate!.Value.Offset);
        Assert.Equal("Grüppe", back.Envelope.From![0].DecodedGroupName);
        Assert.NotNull(back.Envelope.Sender);
        Assert.Empty(back.Envelope.Sender);
        Assert.Null(back.Envelope.ReplyTo);
        Assert.Empty(back.Body.Children[1].Message!.Languages!);
        Assert.Null(back.Body.Languages);
    }

    [Fact]
    public async Task Truncated_or_corrupt_data_throws_invalid_data()
    {
        var (index, _) = await IndexAsync(Corpus.Nested);
        var bytes = MessageIndexSerializer.Serialize(index);
        for (var length = 0; length < bytes.Length; length++)
        {
            var prefix = bytes.AsSpan(0, length).ToArray();
            Assert.Throws<InvalidDataException>(() => MessageIndexSerializer.Deserialize(prefix));
        }

        var wrongVersion = (byte[])bytes.Clone();
        wrongVersion[0] = 99;
        Assert.Throws<InvalidDataException>(() => MessageIndexSerializer.Deserialize(wrongVersion));

        // Random corruption never escapes as anything but InvalidDataException.
        var random = new Random(1234);
        for (var i = 0; i < 2000; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[1 + random.Next(copy.Length - 1)] = (byte)random.Next(256);
            try
            {
                MessageIndexSerializer.Deserialize(copy);
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Fact]
    public async Task Serialized_index_is_compact()
    {
        var (index, raw) = await IndexAsync(Corpus.SimpleText);
        var bytes = MessageIndexSerializer.Serialize(index);
        // Structure + envelope + headers + text of a 361-byte message: well under 2x the message.
        Assert.True(bytes.Length < raw.Length * 2, $"index is {bytes.Length} bytes");
    }
}