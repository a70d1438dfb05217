using System.Net;
using DrWeb.Server.Data;
using DrWeb.Server.Services;
using DrWeb.Server.Services.Passwords;
using DrWeb.Tests.Support;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server;

/// <summary>Sign-in auditing and timing, token and user auditing, the audit page, and the common-password rule.</summary>
public class AuditAndSignInTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private async Task<List<AuditEntry>> AuditAsync(string action, string? actor = null) =>
        (await factory.Services.GetRequiredService<AuditLog>().ListAsync(new AuditFilter(action, actor, Take: 1000))).Entries;

    [Fact]
    public async Task Sign_ins_that_succeed_and_fail_are_audited()
    {
        _ = factory.Server;
        string email = $"doc-{Guid.NewGuid():N}@drweb.test";
        using (var scope = factory.Services.CreateScope())
            Assert.True((await scope.ServiceProvider.GetRequiredService<AccountSetup>().CreateAsync(email, DrWebFactory.Password, AccountSetup.Doctor)).Succeeded);

        using var client = factory.CreateClient();
        await DrWebFactory.SignInAsync(client, email, "not-the-password");
        await DrWebFactory.SignInAsync(client, "nobody-" + email, "not-the-password");
        await DrWebFactory.SignInAsync(client, email, DrWebFactory.Password);

        var failed = await AuditAsync(AuditAction.SignInFailed, email);
        Assert.Contains(failed, e => e.Actor == email && e.Detail == "wrong password");
        Assert.Contains(failed, e => e.Actor == "nobody-" + email && e.Detail == "no such account");
        Assert.Single(await AuditAsync(AuditAction.SignIn, email));
    }

    [Fact]
    public async Task An_unknown_email_or_a_locked_account_costs_a_password_hash_like_a_wrong_password()
    {
        _ = factory.Server;
        using var scope = factory.Services.CreateScope();
        var sp = scope.ServiceProvider;
        var hasher = new CountingHasher(sp.GetRequiredService<IPasswordHasher<DrWebUser>>());
        var signIn = new PasswordSignIn(sp.GetRequiredService<SignInManager<DrWebUser>>(), sp.GetRequiredService<UserManager<DrWebUser>>(), hasher,
            sp.GetRequiredService<AuditLog>());

        var result = await signIn.SignInAsync($"nobody-{Guid.NewGuid():N}@drweb.test", "some-password-guess", "127.0.0.1");
        Assert.False(result.Succeeded);
        Assert.Equal(1, hasher.Verifications);

        // Identity does not check a locked account's password either; the decoy stands in for it.
        string email = $"locked-{Guid.NewGuid():N}@drweb.test";
        var users = sp.GetRequiredService<UserAdministration>();
        Assert.True((await users.CreateAsync(DrWebFactory.AdminEmail, email, DrWebFactory.Password, [AccountSetup.Doctor])).Succeeded);
        Assert.True((await users.SetLockedAsync(DrWebFactory.AdminEmail, (await users.ListAsync()).Single(u => u.Email == email).Id, true)).Succeeded);
        var locked = await signIn.SignInAsync(email, "some-password-guess", "127.0.0.1");
        Assert.True(locked.IsLockedOut);
        Assert.Equal(2, hasher.Verifications);
    }

    [Fact]
    public async Task Issuing_and_revoking_a_token_and_changing_a_user_are_audited_and_shown_on_the_admin_page()
    {
        var (email, _, tokenId) = await factory.ApiUserAsync(AccountSetup.Doctor);
        Assert.True(await factory.Services.GetRequiredService<ApiTokenService>().RevokeAsync(DrWebFactory.AdminEmail, tokenId));
        Assert.Contains(await AuditAsync(AuditAction.TokenIssued), e => e.Subject == email && e.Actor == DrWebFactory.AdminEmail);
        Assert.Contains(await AuditAsync(AuditAction.TokenRevoked), e => e.Subject == email && e.Detail!.Contains(tokenId.ToString()));

        using (var scope = factory.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserAdministration>();
            string id = (await users.ListAsync()).Single(u => u.Email == email).Id;
            Assert.True((await users.SetRolesAsync(DrWebFactory.AdminEmail, id, [AccountSetup.Educator])).Succeeded);
        }
        Assert.Contains(await AuditAsync(AuditAction.RolesChanged), e => e.Subject == email && e.Detail == "from Doctor to Educator");

        using var admin = await factory.SignedInClientAsync();
        string page = await admin.GetStringAsync("/admin/audit");
        Assert.Contains("Audit log", page);
        Assert.Contains(AuditAction.RolesChanged, page);
        Assert.Contains(email, page);
        using var doctor = await factory.SignedInClientAsync(AccountSetup.Doctor);
        Assert.Equal(HttpStatusCode.Forbidden, (await doctor.GetAsync("/admin/audit")).StatusCode);
    }

    [Theory]
    [InlineData("password12")]
    [InlineData("Password2024!")]
    [InlineData("qwertyuiop")]
    [InlineData("1234567890")]
    [InlineData("aaaaaaaaaaaa")]
    [InlineData("abcabcabcabc")]
    [InlineData("abcdefghijkl")]
    [InlineData("iloveyou123")]
    public async Task Common_passwords_are_refused_with_a_reason(string password)
    {
        using var scope = factory.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<UserAdministration>()
            .CreateAsync(DrWebFactory.AdminEmail, $"new-{Guid.NewGuid():N}@drweb.test", password, [AccountSetup.Doctor]);
        Assert.False(result.Succeeded);
        Assert.Contains("Choose a phrase of several words", string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    [Theory]
    [InlineData("margaret.hale@clinic.test", "margaret.hale2024", false)]
    [InlineData("margaret.hale@clinic.test", "margaret.hale@clinic.test", false)]
    [InlineData("margaret.hale@clinic.test", "north and south, 1855", true)]
    [InlineData("margaret.hale@clinic.test", "correct-horse-battery", true)]
    public void The_users_own_email_is_not_a_password(string email, string password, bool accepted) =>
        Assert.Equal(accepted, CommonPasswordValidator.Problem(password, email) is null);

    private sealed class CountingHasher(IPasswordHasher<DrWebUser> inner) : IPasswordHasher<DrWebUser>
    {
        public int Verifications { get; private set; }

        public string HashPassword(DrWebUser user, string password) => inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(DrWebUser user, string hashedPassword, string providedPassword)
        {
            Verifications++;
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}
