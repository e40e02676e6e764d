namespace Pochta.Storage;

public enum MailboxChangeKind
{
    /// <summary>Messages were appended (UIDNEXT moved).</summary>
    Appended,

    /// <summary>Flags or keywords changed.</summary>
    FlagsChanged,

    /// <summary>Messages were expunged.</summary>
    Expunged,

    /// <summary>A mailbox was created, deleted or renamed in the account.</summary>
    MailboxListChanged,
}

/// <summary>Published after commit. Receivers fetch details with
/// <see cref="IMailboxStore.GetChangesSinceAsync"/>; the event only says where to look.</summary>
public sealed record MailboxChange(long AccountId, long MailboxId, MailboxChangeKind Kind, ulong ModSeq);

/// <summary>In-process change bus (PostgreSQL LISTEN/NOTIFY in multi-node mode later).
/// Handlers run on the publisher's thread and must not block: signal and return.</summary>
public interface IChangeBus
{
    IDisposable Subscribe(long accountId, Action<MailboxChange> handler);

    void Publish(MailboxChange change);
}