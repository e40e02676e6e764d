using System.Diagnostics;
using System.Text;

using Microsoft.Extensions.Time.Testing;

using MimeKit;

using Pochta.Client.Cli;
using Pochta.Client.Config;
using Pochta.Client.Local;

namespace Pochta.Client.Tests;

/// <summary>mbox delivery locking as Debian's mailbox programs expect it (fcntl, flock and
/// FILE.lock), mboxrd details, and the $EDITOR/$VISUAL compose path of <c>mail send</c>.</summary>
public class MboxLockingAndEditorTests
{
    private static readonly MboxLockOptions Quick = new() { Timeout = TimeSpan.FromMilliseconds(600), RetryDelay = TimeSpan.FromMilliseconds(50) };
    private static readonly MboxLockOptions Patient = new() { Timeout = TimeSpan.FromSeconds(20), RetryDelay = TimeSpan.FromMilliseconds(50) };
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 2, 3, 4, 5, 6, TimeSpan.Zero));

    private static MemoryStream Message(string text) => new(Encoding.Latin1.GetBytes(text));

    [Fact]
    public async Task Mbox_TakesAndRemovesTheDotLock_FromLineHasReturnPathAndAscTime()
    {
        using var dir = new TempDirectory();
        var mbox = new MboxWriter(dir.Combine("inbox"), Clock, Patient);
        await mbox.DeliverAsync(Message("Return-Path: <alice@example.org>\r\nSubject: a\r\n\r\nline\rwith a lone CR\r\n"), CancellationToken.None);

        Assert.False(File.Exists(mbox.Location + ".lock"));
        Assert.Equal("From alice@example.org Tue Feb  3 04:05:06 2026\nReturn-Path: <alice@example.org>\nSubject: a\n\nline\rwith a lone CR\n\n",
            Encoding.Latin1.GetString(await File.ReadAllBytesAsync(mbox.Location)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(mbox.Location));
    }

    [Fact]
    public async Task Mbox_FileOfAnotherProgramWithoutFinalEmptyLine_GetsOneBeforeTheNextFromLine()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("inbox");
        await File.WriteAllTextAsync(path, "From bob@example.org Mon Feb  2 01:02:03 2026\nSubject: old\n\nno final newline");
        await new MboxWriter(path, Clock, Patient).DeliverAsync(Message("Subject: new\r\n\r\nFrom me\r\n"), CancellationToken.None);
        Assert.Equal(
            "From bob@example.org Mon Feb  2 01:02:03 2026\nSubject: old\n\nno final newline\n\nFrom MAILER-DAEMON Tue Feb  3 04:05:06 2026\nSubject: new\n\n>From me\n\n",
            await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Mbox_LiveDotLock_IsWaitedFor_ThenGivesUpWithoutWriting()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("inbox");
        await File.WriteAllTextAsync(path + ".lock", Environment.ProcessId + "\n"); // a live holder
        var mbox = new MboxWriter(path, Clock, Quick);
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<IOException>(() => mbox.DeliverAsync(Message("Subject: a\r\n\r\na\r\n"), CancellationToken.None));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(500), "gave up at once");
        Assert.Contains("locked", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(path).Length);
        Assert.True(File.Exists(path + ".lock")); // somebody else's lock is never removed
    }

    [Fact]
    public async Task Mbox_DotLockReleasedWhileWaiting_ThenDelivers()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("inbox");
        await File.WriteAllTextAsync(path + ".lock", Environment.ProcessId + "\n");
        var delivery = new MboxWriter(path, Clock, Patient).DeliverAsync(Message("Subject: a\r\n\r\na\r\n"), CancellationToken.None);
        await Task.Delay(300);
        Assert.False(delivery.IsCompleted);
        File.Delete(path + ".lock");
        await delivery;
        Assert.StartsWith("From MAILER-DAEMON ", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mbox_StaleDotLocks_OfADeadProcessOrTooOld_AreRemoved()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("inbox");

        using (var gone = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!)
        {
            await gone.WaitForExitAsync();
            await File.WriteAllTextAsync(path + ".lock", gone.Id + "\n");
        }

        await new MboxWriter(path, Clock, Quick).DeliverAsync(Message("Subject: 1\r\n\r\n1\r\n"), CancellationToken.None);
        Assert.False(File.Exists(path + ".lock"));

        await File.WriteAllTextAsync(path + ".lock", ""); // no PID (another host's program), 10 minutes old
        File.SetLastWriteTimeUtc(path + ".lock", DateTime.UtcNow - TimeSpan.FromMinutes(10));
        await new MboxWriter(path, Clock, Quick).DeliverAsync(Message("Subject: 2\r\n\r\n2\r\n"), CancellationToken.None);
        Assert.False(File.Exists(path + ".lock"));
        Assert.Equal(2, (await File.ReadAllTextAsync(path)).Split("\nFrom ").Length);
    }

    [Theory]
    [InlineData("lockf")] // fcntl(F_SETLK) record lock: mutt, procmail, Dovecot
    [InlineData("flock")] // flock(2)
    public async Task Mbox_KernelLockOfAnotherProcess_IsWaitedFor(string kind)
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("inbox");
        await File.WriteAllTextAsync(path, "");
        var holder = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardOutput = true };
        holder.ArgumentList.Add("-c");
        holder.ArgumentList.Add($"import fcntl,sys,time\nf=open(sys.argv[1],'r+')\nfcntl.{kind}(f,fcntl.LOCK_EX)\nprint('locked',flush=True)\ntime.sleep(1.5)");
        holder.ArgumentList.Add(path);
        using var process = Process.Start(holder)!;
        Assert.Equal("locked", await process.StandardOutput.ReadLineAsync());

        var clock = Stopwatch.StartNew();
        await new MboxWriter(path, Clock, Patient).DeliverAsync(Message("Subject: a\r\n\r\na\r\n"), CancellationToken.None);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(700), $"wrote while {kind} was held ({clock.Elapsed.TotalMilliseconds} ms)");
        await process.WaitForExitAsync();
        Assert.StartsWith("From MAILER-DAEMON ", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
    }

    [Fact]
    public void AscTime_PadsTheDayWithASpace()
    {
        Assert.Equal("Tue Feb  3 04:05:06 2026", MboxWriter.AscTime(new DateTimeOffset(2026, 2, 3, 4, 5, 6, TimeSpan.Zero)));
        Assert.Equal("Sat Oct 31 23:59:59 2026", MboxWriter.AscTime(new DateTimeOffset(2026, 11, 1, 1, 59, 59, TimeSpan.FromHours(2))));
    }

    private static async Task<(CliHarness Cli, FakeSmtpServer Smtp)> SendSetupAsync(TempDirectory home)
    {
        var smtp = new FakeSmtpServer { Credentials = "\0me@example.org\0pw" };
        var cli = new CliHarness(home);
        cli.Variables[PasswordResolver.EnvironmentVariable] = "pw";
        var (code, _, error) = await cli.MailAsync("account", "add", "me", "--address", "Me <me@example.org>", "--smtp", smtp.Endpoint, "--smtp-security", "none");
        Assert.True(code == 0, error);
        return (cli, smtp);
    }

    /// <summary>An editor: records the file it was given and its mode, then writes the body into it.</summary>
    private static string EditorScript(TempDirectory home, string body)
    {
        var script = home.Combine("editor.sh");
        File.WriteAllText(script,
            "#!/bin/sh\n" +
            "for f; do :; done\n" + // the file is the last argument
            $"printf '%s\\n' \"$f\" > '{home.Combine("edited-file")}'\n" +
            $"stat -c %a \"$f\" > '{home.Combine("edited-mode")}'\n" +
            $"printf '%s\\n' \"$*\" > '{home.Combine("edited-args")}'\n" +
            $"printf '{body}' > \"$f\"\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return script;
    }

    [Fact]
    public async Task Send_BodyFromEditor_OnAnOwnerOnlyTemporaryFile_ThatIsRemovedAfterwards()
    {
        using var home = new TempDirectory();
        var (cli, smtp) = await SendSetupAsync(home);
        await using var _ = smtp;
        cli.Variables["EDITOR"] = EditorScript(home, "Hello Bob,\\nwritten in the editor: \\303\\251t\\303\\251.\\n");

        var (code, _, error) = await cli.MailAsync("send", "--to", "bob@example.net", "--subject", "From the editor");

        Assert.True(code == 0, error);
        var message = MimeMessage.Load(new MemoryStream(Assert.Single(smtp.Transactions).Data));
        Assert.Equal("From the editor", message.Subject);
        Assert.Equal("Hello Bob,\nwritten in the editor: \u00e9t\u00e9.\n", message.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal("600", (await File.ReadAllTextAsync(home.Combine("edited-mode"))).Trim());
        Assert.False(File.Exists((await File.ReadAllTextAsync(home.Combine("edited-file"))).Trim()));
    }

    [Fact]
    public async Task Send_VisualWinsOverEditor_AndMayCarryArguments()
    {
        using var home = new TempDirectory();
        var (cli, smtp) = await SendSetupAsync(home);
        await using var _ = smtp;
        cli.Variables["EDITOR"] = "false";
        cli.Variables["VISUAL"] = "/bin/sh " + EditorScript(home, "visual body\\n") + " --wait";

        var (code, _, error) = await cli.MailAsync("send", "--to", "bob@example.net", "--subject", "x");

        Assert.True(code == 0, error);
        var message = MimeMessage.Load(new MemoryStream(Assert.Single(smtp.Transactions).Data));
        Assert.Equal("visual body\n", message.TextBody!.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.StartsWith("--wait ", await File.ReadAllTextAsync(home.Combine("edited-args")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_EditorFailing_SendsNothing_AndExitsTwo()
    {
        using var home = new TempDirectory();
        var (cli, smtp) = await SendSetupAsync(home);
        await using var _ = smtp;
        cli.Variables["EDITOR"] = "false";

        var (code, _, error) = await cli.MailAsync("send", "--to", "bob@example.net", "--subject", "x");

        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("editor exited with code 1", error, StringComparison.Ordinal);
        Assert.Empty(smtp.Transactions);
    }
}