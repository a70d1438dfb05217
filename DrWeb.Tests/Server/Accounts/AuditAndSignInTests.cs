using System.Net;
using DrWeb.Server.Accounts;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Accounts;

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
            sp.GetRequiredService<AuditLog>(), sp.GetRequiredService<SignInLockout>());

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
    public async Task Wrong_passwords_lock_the_account_for_the_address_they_came_from_and_not_for_its_owner()
    {
        _ = factory.Server;
        using var scope = factory.Services.CreateScope();
        var sp = scope.ServiceProvider;
        var users = sp.GetRequiredService<UserAdministration>();
        string email = $"target-{Guid.NewGuid():N}@drweb.test";
        Assert.True((await users.CreateAsync(DrWebFactory.AdminEmail, email, DrWebFactory.Password, [AccountSetup.Admin])).Succeeded);
        // A successful sign-in writes its cookie into the request's response.
        sp.GetRequiredService<Microsoft.AspNetCore.Http.IHttpContextAccessor>().HttpContext = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = sp };
        var signIn = sp.GetRequiredService<PasswordSignIn>();
        const string attacker = "198.51.100.7", owner = "203.0.113.9";

        for (int i = 0; i < 9; i++) Assert.False((await signIn.SignInAsync(email, $"guess-{i}-guess", attacker)).IsLockedOut);
        Assert.False((await signIn.SignInAsync(email, "the-tenth-guess", attacker)).Succeeded);
        // The eleventh try from that address is refused even with the right password...
        Assert.True((await signIn.SignInAsync(email, DrWebFactory.Password, attacker)).IsLockedOut);
        // ...while the owner, elsewhere, signs in, and the account itself is not locked.
        Assert.True((await signIn.SignInAsync(email, DrWebFactory.Password, owner)).Succeeded);
        var account = (await users.ListAsync()).Single(u => u.Email == email);
        Assert.False(account.LockedOut);
        var failed = await AuditAsync(AuditAction.SignInFailed, email);
        Assert.Contains(failed, e => e.Address == attacker && e.Detail == "wrong password; now locked for this address");
        Assert.Contains(failed, e => e.Address == attacker && e.Detail!.StartsWith("account locked for this address"));

        // An administrator unlocking the account clears the address's lock too.
        Assert.True((await users.SetLockedAsync(DrWebFactory.AdminEmail, account.Id, false)).Succeeded);
        Assert.True((await signIn.SignInAsync(email, DrWebFactory.Password, attacker)).Succeeded);
    }

    [Fact]
    public void An_address_lock_ends_after_its_period_and_occasional_typos_never_add_up_to_one()
    {
        var clock = new ManualClock();
        var options = Microsoft.Extensions.Options.Options.Create(new DrWeb.Server.Platform.DrWebOptions
            { SignInLockout = new() { FailuresPerAddress = 3, LockoutMinutes = 15 } });
        var lockout = new SignInLockout(options, clock);

        Assert.False(lockout.RecordFailure("A@clinic.test", "10.0.0.1"));
        Assert.False(lockout.RecordFailure("a@clinic.test", "10.0.0.1"));
        Assert.True(lockout.RecordFailure("a@clinic.test ", "10.0.0.1"));
        Assert.True(lockout.IsLocked("a@clinic.test", "10.0.0.1", out var remaining));
        Assert.Equal(TimeSpan.FromMinutes(15), remaining);
        Assert.False(lockout.IsLocked("a@clinic.test", "10.0.0.2", out _));
        clock.Advance(TimeSpan.FromMinutes(15));
        Assert.False(lockout.IsLocked("a@clinic.test", "10.0.0.1", out _));

        // One typo every 20 minutes is forgotten before the next one.
        for (int i = 0; i < 10; i++)
        {
            Assert.False(lockout.RecordFailure("b@clinic.test", "10.0.0.1"));
            clock.Advance(TimeSpan.FromMinutes(20));
        }
    }

    [Fact]
    public void Spraying_many_accounts_keeps_the_lockout_table_bounded()
    {
        var clock = new ManualClock();
        var lockout = new SignInLockout(Microsoft.Extensions.Options.Options.Create(new DrWeb.Server.Platform.DrWebOptions()), clock);
        Assert.True(lockout.RecordFailure("kept@clinic.test", "10.0.0.1") is false);
        for (int i = 0; i < 9; i++) lockout.RecordFailure("kept@clinic.test", "10.0.0.1");
        Assert.True(lockout.IsLocked("kept@clinic.test", "10.0.0.1", out _));
        for (int i = 0; i < SignInLockout.MaxTracked + 1000; i++)
        {
            lockout.RecordFailure($"user{i}@clinic.test", "10.0.0.9");
            if (i % 1000 == 0) clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.InRange(lockout.TrackedPairs, 1, SignInLockout.MaxTracked);
        // A live lock is not what gets forgotten.
        Assert.True(lockout.IsLocked("kept@clinic.test", "10.0.0.1", out _));
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

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }

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
