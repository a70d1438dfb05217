using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Identity;

namespace DrWeb.Server.Accounts;

/// <summary>
/// Refuses passwords an attacker tries first (NIST SP 800-63B, 5.1.1.2): entries of a bundled list of common
/// passwords, such an entry padded with digits or symbols ("password12"), one character or a short group repeated,
/// straight runs ("abcdefghij", "0123456789"), and passwords built from the user's own e-mail or the service's name.
/// </summary>
public sealed class CommonPasswordValidator : IPasswordValidator<DrWebUser>
{
    public static readonly IReadOnlySet<string> Common = Load();

    public Task<IdentityResult> ValidateAsync(UserManager<DrWebUser> manager, DrWebUser user, string? password) =>
        Task.FromResult(Problem(password ?? "", user.Email ?? user.UserName) is { } problem
            ? IdentityResult.Failed(new IdentityError { Code = "CommonPassword", Description = problem })
            : IdentityResult.Success);

    /// <summary>Why the password is too easy to guess, or null.</summary>
    public static string? Problem(string password, string? email)
    {
        string p = password.Trim().ToLowerInvariant();
        string stem = p.Trim(Padding);
        if (Common.Contains(p) || Common.Contains(stem) || stem.Length == 0)
            return "This password is on the list of the most common passwords (or is one with digits added). Choose a phrase of several words.";
        if (IsRepeated(p) || IsRun(p))
            return "This password is a repeated or consecutive run of characters. Choose a phrase of several words.";
        if (email is { Length: > 0 })
        {
            string local = email.Split('@')[0].ToLowerInvariant();
            if (p.Contains(email.ToLowerInvariant()) || (local.Length >= 4 && stem.Replace(local, "").Trim(Padding).Length < 4))
                return "The password must not be made from your e-mail address. Choose a phrase of several words.";
        }
        return null;
    }

    private static readonly char[] Padding = "0123456789!@#$%^&*()-_=+.,;:?~'\"/\\| ".ToCharArray();

    /// <summary>One short group repeated to the full length: "aaaaaaaaaa", "abcabcabca", "12121212".</summary>
    private static bool IsRepeated(string p)
    {
        for (int unit = 1; unit <= Math.Min(4, p.Length / 2); unit++)
        {
            bool repeats = true;
            for (int i = unit; i < p.Length && repeats; i++) repeats = p[i] == p[i - unit];
            if (repeats) return true;
        }
        return false;
    }

    /// <summary>Every character one step from the last, up or down: "abcdefghij", "9876543210".</summary>
    private static bool IsRun(string p)
    {
        if (p.Length < 3) return false;
        int step = p[1] - p[0];
        if (Math.Abs(step) != 1) return false;
        for (int i = 2; i < p.Length; i++)
            if (p[i] - p[i - 1] != step) return false;
        return true;
    }

    private static HashSet<string> Load()
    {
        using var stream = typeof(CommonPasswordValidator).Assembly.GetManifestResourceStream("DrWeb.common-passwords.txt")
            ?? throw new InvalidOperationException("The common-password list is missing from the build.");
        using var reader = new StreamReader(stream);
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
            if (line.Trim() is { Length: > 0 } entry && !entry.StartsWith('#'))
                set.Add(entry.ToLowerInvariant());
        return set;
    }
}
