using System.Globalization;
using System.Text;

using Pochta.Storage;

namespace Pochta.Pop3;

/// <summary>
/// The session's view of the INBOX, snapshotted at login (RFC 1939 §4: message numbers and sizes
/// do not change during the session). DELE only marks; the marked UIDs are expunged in the UPDATE
/// state. Holds the maildrop lock until disposed.
/// </summary>
internal sealed class Maildrop(MailboxInfo mailbox, IReadOnlyList<MessageEntry> messages, IDisposable lease) : IDisposable
{
    private readonly MessageEntry[] _messages = [.. messages];
    private readonly bool[] _deleted = new bool[messages.Count];

    public MailboxInfo Mailbox { get; } = mailbox;

    /// <summary>Messages in the snapshot, deleted ones included (message numbers are 1..Count).</summary>
    public int Count => _messages.Length;

    public int LiveCount { get; private set; } = messages.Count;

    public long LiveSize { get; private set; } = messages.Sum(m => m.Size);

    /// <summary>The entry for a message number that exists and is not marked deleted.</summary>
    public bool TryGetLive(int number, out MessageEntry entry)
    {
        if (number >= 1 && number <= _messages.Length && !_deleted[number - 1])
        {
            entry = _messages[number - 1];
            return true;
        }

        entry = null!;
        return false;
    }

    public bool IsDeleted(int number) => number >= 1 && number <= _messages.Length && _deleted[number - 1];

    public MessageEntry this[int number] => _messages[number - 1];

    /// <summary>Marks a live message deleted (RFC 1939 §5 DELE).</summary>
    public void MarkDeleted(int number)
    {
        var i = number - 1;
        if (!_deleted[i])
        {
            _deleted[i] = true;
            LiveCount--;
            LiveSize -= _messages[i].Size;
        }
    }

    /// <summary>RFC 1939 §5 RSET.</summary>
    public void UnmarkAll()
    {
        Array.Clear(_deleted);
        LiveCount = _messages.Length;
        LiveSize = _messages.Sum(m => m.Size);
    }

    public IReadOnlyList<uint> DeletedUids()
    {
        var uids = new List<uint>();
        for (var i = 0; i < _messages.Length; i++)
        {
            if (_deleted[i])
            {
                uids.Add(_messages[i].Uid);
            }
        }

        return uids;
    }

    /// <summary>RFC 1939 §7 unique-id: stable forever because UIDVALIDITY never changes for a mailbox
    /// and UIDs are never reused. 16 hex digits, UIDVALIDITY then UID.</summary>
    public byte[] UniqueId(int number)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{Mailbox.UidValidity:x8}{_messages[number - 1].Uid:x8}");
        return Encoding.ASCII.GetBytes(text);
    }

    public void Dispose() => lease.Dispose();
}