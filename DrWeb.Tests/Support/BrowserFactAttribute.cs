namespace DrWeb.Tests.Support;

/// <summary>
/// A test that drives Chromium. Where Chromium is missing (scripts/test.sh could not install it: no root, or no
/// Debian mirror) it is reported as skipped, with the reason, and every other test still runs.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Chromium.Unavailable is { } reason) Skip = reason;
    }
}
