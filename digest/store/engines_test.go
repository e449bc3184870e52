package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gull/digest/store/pgtest"
)

// Every store test runs on both engines: as itself on SQLite, and again
// under TestPostgres, where openTemp and freshWhere give it a PostgreSQL
// schema of its own. A new test that opens a store goes in one of the two
// lists below (TestEveryStoreTestNamesItsEngines says so).

// onBothEngines are the tests TestPostgres runs again on PostgreSQL.
var onBothEngines = []func(*testing.T){
	TestArticlesOfAnOlderStoreGetTheirLanguageAtOpen,
	TestSaveFeedKeepsFirstSeen, TestArticleRoundTrip, TestMailed, TestSaveFeedIsAtomic,
	TestReopenKeepsDataAndSchema, TestNewerSchemaRefused, TestConcurrentOpenOfNewFile,
	TestDraftLifecycle, TestDraftConcurrentEditors, TestDraftBadEditLeavesDraftUnchanged, TestDraftRebuild,
	TestDraftOfAnIssueFrozenBySend, TestApproveDraftOfAQuietWeek, TestReopenRefusedWhileASendRuns,
	TestApprovedIssueUnpublishedUntilItsSend,
	TestIssueFrozenOnceBuilt, TestDeliveryLedger, TestPendingDeliveriesPages, TestLease, TestLeaseTakenByOneOfMany,
	TestIssuesListsTheFrozenNewestFirst, TestScheduleDoneThroughNeverMovesBack, TestIssueNumbers,
	TestSubscriberAddFindUpdate, TestUnsubscribedNeverReactivated, TestRemovedIDsAreNotReused,
	TestImportMixedRows, TestImportCancelledHalfWayChangesNothing, TestExportImportRoundTrip,
	TestCreatePendingAndThemes, TestTokenSecretKeptAcrossOpens, TestImportChangesOnlyGivenCells, TestExpirePending,
	TestCopyBothWays, TestCopyRefusesATargetThatIsNotEmpty, TestCopyFailureLeavesTargetEmpty,
	TestSearchArchive, TestArchiveShowsOnlyPublishedIssues, TestReopenedIssueLeavesTheArchive, TestThemeArticles,
	TestArchiveBackfilledAtOpen, TestCreatePendingKeepsTheForm, TestPendingDeliveriesCarryLanguage,
	TestBouncePolicy, TestBouncedReaderComesBack, TestBouncedNeverReactivatedByImport, TestLastIssueBounces,
	TestTakeSlotNeedsTheLeadersLease, TestDeskLinkUsedOnce,
	TestReviewMailsKept, TestOwedSignUpsOutliveTheirDaemon,
	TestArchiveIndexesCoverage, TestThemeArticlesListMatchedThemes, TestSearchFindsDecomposedHangul, TestArchiveRebuiltByMigration,
	TestShortWordSearchIsCapped,
	TestBounceNeedsASentCopy, TestRefusedAtSendIsABounce, TestBounceRehearsal,
	TestClaimsShareTheRows, TestConcurrentClaimsTakeEachRowOnce,
	TestLapsedClaimIsNotStarted, TestSkewedClockTakesNoLiveClaim,
}

// sqliteOnly are about SQLite's file: its guard against deletion, its
// mode, a process killed inside SQLite's transaction (by a SQLite function).
var sqliteOnly = []string{
	"TestDeletedStoreRefusesWritesAndANewStart", "TestStaleWALWithoutItsDatabaseIsRefused",
	"TestReplacedStoreRefusesWrites", "TestOtherStoreInItsPlaceIsRefused", "TestStoreReopensAsItself",
	"TestReplacedStoreClosesWithoutSpoilingTheNewFile", "TestNewStoreIsPrivate", "TestDraftEditCrash",
	"TestCopyKnowsEveryTable", // reads SQLite's catalogue; both engines have the same tables
}

const postgresRun = "TestPostgres/"

// onPostgres says whether t runs under TestPostgres.
func onPostgres(t testing.TB) bool { return strings.HasPrefix(t.Name(), postgresRun) }

// freshWhere is where a new, empty store for t opens: a file in its own
// folder, or on PostgreSQL a schema of its own.
func freshWhere(t testing.TB) string {
	t.Helper()
	if onPostgres(t) {
		return pgtest.DSN(t)
	}
	return filepath.Join(t.TempDir(), "sub", "gull.db")
}

func testName(f func(*testing.T)) string {
	name := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	return name[strings.LastIndex(name, ".")+1:]
}

// TestPostgres runs the store's tests on PostgreSQL ($GULL_TEST_POSTGRES).
func TestPostgres(t *testing.T) {
	pgtest.Server(t)
	for _, f := range onBothEngines {
		t.Run(testName(f), f)
	}
}

// A store test that is on neither list would run on SQLite alone without
// anyone deciding so.
func TestEveryStoreTestNamesItsEngines(t *testing.T) {
	var both []string
	for _, f := range onBothEngines {
		both = append(both, testName(f))
	}
	files, _ := filepath.Glob("*_test.go")
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Body == nil {
				continue
			}
			opens := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && (id.Name == "openTemp" || id.Name == "freshWhere") {
					opens = true
				}
				return true
			})
			name := fn.Name.Name
			if opens && !slices.Contains(both, name) && !slices.Contains(sqliteOnly, name) {
				t.Errorf("%s (%s) opens a store but is in neither onBothEngines nor sqliteOnly (engines_test.go): add it to onBothEngines", name, file)
			}
		}
	}
}
