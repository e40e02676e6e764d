using System.ComponentModel.DataAnnotations;

namespace Pochta.Delivery.Inbound;

/// <summary>Recipient resolution and local delivery (configuration section <c>Inbound</c>).</summary>
public sealed class InboundOptions
{
    public const string Section = "Inbound";

    /// <summary>Plus-addressing: <c>user+tag@domain</c> is delivered to <c>user@domain</c>.
    /// Empty disables it.</summary>
    [MaxLength(1)]
    public string RecipientDelimiter { get; set; } = "+";

    /// <summary>Aliases may point at aliases this deep; deeper chains are refused as loops.</summary>
    [Range(1, 100)]
    public int MaxAliasDepth { get; set; } = 8;

    /// <summary>One alias may expand to at most this many final recipients.</summary>
    [Range(1, 100_000)]
    public int MaxExpandedRecipients { get; set; } = 1000;
}