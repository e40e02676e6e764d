namespace Pochta.Delivery.Tests;

public class RetryPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Default_schedule_is_1m_5m_15m_30m_1h_2h_4h_then_every_4h()
    {
        var policy = new RetryPolicy(new OutboundOptions());
        TimeSpan[] expected =
        [
            TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30),
            TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(4), TimeSpan.FromHours(4),
        ];
        var now = T0;
        for (var attempt = 1; attempt <= expected.Length; attempt++)
        {
            var next = policy.NextAttempt(T0, attempt, now);
            Assert.Equal(now + expected[attempt - 1], next);
            now = next!.Value;
        }
    }

    [Fact]
    public void Attempts_continue_until_five_days_with_the_last_at_expiry_then_fail()
    {
        var policy = new RetryPolicy(new OutboundOptions());
        var now = T0;
        var attempts = 0;
        DateTimeOffset? next;
        while ((next = policy.NextAttempt(T0, ++attempts, now)) is { } n)
        {
            Assert.True(n > now);
            Assert.True(n <= T0 + TimeSpan.FromDays(5));
            now = n;
        }

        // The final attempt happens exactly at expiry; nothing is given up earlier.
        Assert.Equal(T0 + TimeSpan.FromDays(5), now);

        // 7 stepped delays reach 7h51m; the rest of 5 days in 4h steps, the last one clipped to expiry.
        var stepped = TimeSpan.FromMinutes(1 + 5 + 15 + 30 + 60 + 120 + 240);
        var fourHourSteps = (int)Math.Ceiling((TimeSpan.FromDays(5) - stepped) / TimeSpan.FromHours(4));
        Assert.Equal(7 + fourHourSteps + 1, attempts);
    }

    [Fact]
    public void Expired_recipient_has_no_next_attempt()
    {
        var policy = new RetryPolicy(new OutboundOptions());
        Assert.Null(policy.NextAttempt(T0, 3, T0 + TimeSpan.FromDays(5)));
        Assert.Null(policy.NextAttempt(T0, 3, T0 + TimeSpan.FromDays(6)));
        Assert.Equal(T0 + TimeSpan.FromDays(5), policy.ExpiresAt(T0));
    }

    [Fact]
    public void Configured_schedule_and_lifetime_are_used()
    {
        var policy = new RetryPolicy(new OutboundOptions
        {
            RetrySchedule = [TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)],
            MaxQueueLifetime = TimeSpan.FromMinutes(1),
        });
        Assert.Equal(T0.AddSeconds(10), policy.NextAttempt(T0, 1, T0));
        Assert.Equal(T0.AddSeconds(30), policy.NextAttempt(T0, 2, T0.AddSeconds(10)));
        Assert.Equal(T0.AddSeconds(50), policy.NextAttempt(T0, 3, T0.AddSeconds(30)));
        Assert.Equal(T0.AddMinutes(1), policy.NextAttempt(T0, 4, T0.AddSeconds(50)));
    }

    [Fact]
    public void Delay_notice_is_due_after_four_hours()
    {
        var policy = new RetryPolicy(new OutboundOptions());
        Assert.False(policy.DelayNoticeDue(T0, T0 + TimeSpan.FromHours(4) - TimeSpan.FromSeconds(1)));
        Assert.True(policy.DelayNoticeDue(T0, T0 + TimeSpan.FromHours(4)));
        Assert.False(new RetryPolicy(new OutboundOptions { DelayNotificationAfter = TimeSpan.FromHours(8) }).DelayNoticeDue(T0, T0 + TimeSpan.FromHours(5)));
    }

    [Theory]
    [InlineData(null, true, NotifyFlags.Failure | NotifyFlags.Delay)]
    [InlineData(null, false, NotifyFlags.Failure)]
    [InlineData("NEVER", true, NotifyFlags.Never)]
    [InlineData("never", true, NotifyFlags.Never)]
    [InlineData("SUCCESS", true, NotifyFlags.Success)]
    [InlineData("FAILURE", true, NotifyFlags.Failure)]
    [InlineData("DELAY", true, NotifyFlags.Delay)]
    [InlineData("SUCCESS,FAILURE,DELAY", false, NotifyFlags.Success | NotifyFlags.Failure | NotifyFlags.Delay)]
    [InlineData("success, delay", false, NotifyFlags.Success | NotifyFlags.Delay)]
    public void Notify_values_parse(string? value, bool delayWhenAbsent, NotifyFlags expected) =>
        Assert.Equal(expected, Notify.Parse(value, delayWhenAbsent));
}