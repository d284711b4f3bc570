package notifications

import (
	"os"
	"testing"

	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
