using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Platform.Database.Migrations
{
    /// <inheritdoc />
    public partial class TrainingRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "TrainingRunId",
                table: "ModelVersions",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ModelEvaluations",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ModelVersionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    RunId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    DataFingerprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Images = table.Column<int>(type: "INTEGER", nullable: false),
                    ReportJson = table.Column<string>(type: "TEXT", nullable: false),
                    ReferableAuc = table.Column<double>(type: "REAL", nullable: true),
                    Sensitivity = table.Column<double>(type: "REAL", nullable: false),
                    Specificity = table.Column<double>(type: "REAL", nullable: false),
                    Accuracy = table.Column<double>(type: "REAL", nullable: false),
                    Kappa = table.Column<double>(type: "REAL", nullable: false),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ModelEvaluations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ModelEvaluations_ModelVersions_ModelVersionId",
                        column: x => x.ModelVersionId,
                        principalTable: "ModelVersions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TrainingDatasets",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Folder = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Uploaded = table.Column<bool>(type: "INTEGER", nullable: false),
                    Layout = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Images = table.Column<int>(type: "INTEGER", nullable: false),
                    GradeCounts = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Fingerprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Report = table.Column<string>(type: "TEXT", nullable: false),
                    RegisteredUtc = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrainingDatasets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "TrainingSchedules",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Cron = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    SettingsJson = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrainingSchedules", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "EvaluationCases",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    EvaluationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ImageHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    PatientId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Eye = table.Column<string>(type: "TEXT", maxLength: 8, nullable: true),
                    TrueGrade = table.Column<int>(type: "INTEGER", nullable: false),
                    PredictedGrade = table.Column<int>(type: "INTEGER", nullable: false),
                    P0 = table.Column<float>(type: "REAL", nullable: false),
                    P1 = table.Column<float>(type: "REAL", nullable: false),
                    P2 = table.Column<float>(type: "REAL", nullable: false),
                    P3 = table.Column<float>(type: "REAL", nullable: false),
                    P4 = table.Column<float>(type: "REAL", nullable: false),
                    HeatmapPredictedHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    HeatmapTrueHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CamLayer = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EvaluationCases", x => x.Id);
                    table.ForeignKey(
                        name: "FK_EvaluationCases_ModelEvaluations_EvaluationId",
                        column: x => x.EvaluationId,
                        principalTable: "ModelEvaluations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TrainingRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    DatasetId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Architecture = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    BaseCheckpointId = table.Column<Guid>(type: "TEXT", nullable: true),
                    SettingsJson = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Phase = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Device = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    HangfireJobId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ScheduleId = table.Column<Guid>(type: "TEXT", nullable: true),
                    RequestedBy = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    ScheduledForUtc = table.Column<long>(type: "INTEGER", nullable: true),
                    StartedUtc = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedUtc = table.Column<long>(type: "INTEGER", nullable: true),
                    HeartbeatUtc = table.Column<long>(type: "INTEGER", nullable: true),
                    Epoch = table.Column<int>(type: "INTEGER", nullable: false),
                    Epochs = table.Column<int>(type: "INTEGER", nullable: false),
                    Step = table.Column<int>(type: "INTEGER", nullable: false),
                    StepsPerEpoch = table.Column<int>(type: "INTEGER", nullable: false),
                    EtaSeconds = table.Column<double>(type: "REAL", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    ResumedAfterEpoch = table.Column<int>(type: "INTEGER", nullable: true),
                    CancelRequested = table.Column<bool>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    ErrorReference = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    BestKappa = table.Column<double>(type: "REAL", nullable: true),
                    BestReferableAuc = table.Column<double>(type: "REAL", nullable: true),
                    BestEpoch = table.Column<int>(type: "INTEGER", nullable: true),
                    TrainingSeconds = table.Column<double>(type: "REAL", nullable: false),
                    ModelVersionId = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrainingRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TrainingRuns_TrainingDatasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "TrainingDatasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "TrainingEpochs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RunId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Epoch = table.Column<int>(type: "INTEGER", nullable: false),
                    TrainLoss = table.Column<double>(type: "REAL", nullable: false),
                    ValidationLoss = table.Column<double>(type: "REAL", nullable: false),
                    Kappa = table.Column<double>(type: "REAL", nullable: false),
                    ReferableAuc = table.Column<double>(type: "REAL", nullable: true),
                    Sensitivity = table.Column<double>(type: "REAL", nullable: false),
                    Specificity = table.Column<double>(type: "REAL", nullable: false),
                    Accuracy = table.Column<double>(type: "REAL", nullable: false),
                    Seconds = table.Column<double>(type: "REAL", nullable: false),
                    Improved = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrainingEpochs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TrainingEpochs_TrainingRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "TrainingRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TrainingSteps",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RunId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Epoch = table.Column<int>(type: "INTEGER", nullable: false),
                    Step = table.Column<int>(type: "INTEGER", nullable: false),
                    GlobalStep = table.Column<int>(type: "INTEGER", nullable: false),
                    Loss = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrainingSteps", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TrainingSteps_TrainingRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "TrainingRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationCases_EvaluationId_TrueGrade_PredictedGrade",
                table: "EvaluationCases",
                columns: new[] { "EvaluationId", "TrueGrade", "PredictedGrade" });

            migrationBuilder.CreateIndex(
                name: "IX_ModelEvaluations_ModelVersionId",
                table: "ModelEvaluations",
                column: "ModelVersionId");

            migrationBuilder.CreateIndex(
                name: "IX_TrainingEpochs_RunId_Epoch",
                table: "TrainingEpochs",
                columns: new[] { "RunId", "Epoch" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TrainingRuns_CreatedUtc",
                table: "TrainingRuns",
                column: "CreatedUtc");

            migrationBuilder.CreateIndex(
                name: "IX_TrainingRuns_DatasetId",
                table: "TrainingRuns",
                column: "DatasetId");

            migrationBuilder.CreateIndex(
                name: "IX_TrainingSteps_RunId_GlobalStep",
                table: "TrainingSteps",
                columns: new[] { "RunId", "GlobalStep" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "EvaluationCases");

            migrationBuilder.DropTable(
                name: "TrainingEpochs");

            migrationBuilder.DropTable(
                name: "TrainingSchedules");

            migrationBuilder.DropTable(
                name: "TrainingSteps");

            migrationBuilder.DropTable(
                name: "ModelEvaluations");

            migrationBuilder.DropTable(
                name: "TrainingRuns");

            migrationBuilder.DropTable(
                name: "TrainingDatasets");

            migrationBuilder.DropColumn(
                name: "TrainingRunId",
                table: "ModelVersions");
        }
    }
}
