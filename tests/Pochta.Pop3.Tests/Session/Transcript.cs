namespace Pochta.Pop3.Tests.Session;

/// <summary>C:/S: scripts. <c>C: line</c> is sent with CRLF; <c>S: line</c> must match exactly;
/// <c>S~ text</c> must start with text; <c>S: (closed)</c> expects the server to hang up.</summary>
internal static class Transcript
{
    public static async Task RunAsync(this TestClient client, string script)
    {
        foreach (var raw in script.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }

            line = line.TrimStart();
            var kind = line[..2];
            var text = line.Length > 3 ? line[3..] : "";
            switch (kind)
            {
                case "C:":
                    await client.SendLineAsync(text);
                    break;
                case "S:" when text == "(closed)":
                    await client.ExpectClosedAsync();
                    break;
                case "S:":
                    Assert.Equal(text, await client.ExpectLineAsync());
                    break;
                case "S~":
                    var actual = await client.ExpectLineAsync();
                    Assert.True(actual.StartsWith(text, StringComparison.Ordinal), $"expected a line starting with '{text}', got '{actual}'");
                    break;
                default:
                    throw new InvalidOperationException("bad script line: " + line);
            }
        }
    }
}